"""Material prompt presets as data: what each material is, how big a tile of it is in the
real world, and the shared scaffolding that asks for an albedo fit for a PBR material
(flat even light, seen straight on, seamless, plausible scale). `build_prompt` joins a
preset with the artist's own words. Add a material by adding a MaterialPreset to PRESETS.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MaterialPreset:
    id: str            # stable key (stored in settings and history)
    label: str         # shown in the UI
    subject: str       # what the texture shows, as a noun phrase
    scale: str         # real-world width one tile covers
    details: str = ""  # material-specific cues (what to include or avoid)


PRESETS: tuple[MaterialPreset, ...] = (
    MaterialPreset("stone", "Stone", "a natural rough stone surface", "about 1 m",
                   "varied grain, small chips and cracks, no single dominant feature"),
    MaterialPreset("brick", "Brick", "a wall of laid bricks with mortar joints", "about 2 m",
                   "straight, level courses in a running bond, evenly spaced mortar lines"),
    MaterialPreset("wood", "Wood", "planed wooden boards", "about 1 m",
                   "grain running in one direction, a few small knots, consistent plank width"),
    MaterialPreset("metal", "Metal", "a worn metal plate", "about 50 cm",
                   "fine brushing or scratches, subtle patches of wear, no reflections of a scene"),
    MaterialPreset("fabric", "Fabric", "a woven fabric", "about 20 cm",
                   "a regular weave with visible threads, no folds or wrinkles"),
    MaterialPreset("ground", "Ground", "bare ground with soil, pebbles and a little dry grass",
                   "about 2 m", "an even scatter of detail with no paths or tracks"),
    MaterialPreset("tiles", "Tiles", "square ceramic floor tiles with grout lines", "about 1 m",
                   "a straight grid of equal tiles, grout lines parallel to the image edges"),
    MaterialPreset("plaster", "Plaster", "a plastered wall", "about 2 m",
                   "soft trowel marks and faint stains, no cracks running off the edges"),
    MaterialPreset("bark", "Bark", "tree bark", "about 50 cm",
                   "deep vertical furrows and ridges, no branches or moss clumps"),
    MaterialPreset("concrete", "Concrete", "a poured concrete surface", "about 2 m",
                   "small air holes and subtle formwork stains, no seams or markings"),
    MaterialPreset("sand", "Sand", "fine sand with gentle ripples", "about 1 m",
                   "small grains, soft wind ripples, no footprints"),
    MaterialPreset("marble", "Marble", "polished marble", "about 1 m",
                   "natural veining that flows across the whole surface"),
)

# The part that makes any material prompt PBR friendly (albedo, not a photograph).
SCAFFOLD = ("Texture for a physically based material: the base colour (albedo) of {subject}, "
            "{details}. Seen straight on from directly above, orthographic, no perspective and "
            "no horizon. Flat, even, diffuse light: no cast shadows, no highlights, no "
            "reflections, no vignetting, no lighting gradient. Physically plausible scale: the "
            "image covers {scale} of the real surface. Detail spread evenly over the whole image, "
            "no text, borders, frames or objects.")
SEAMLESS = ("Seamless and tileable: the left edge continues the right edge and the top edge "
            "continues the bottom edge, with no visible seam.")


def lookup(preset_id: str) -> MaterialPreset:
    """The preset with this id; KeyError naming the known ids otherwise."""
    for p in PRESETS:
        if p.id == preset_id:
            return p
    raise KeyError(f"unknown material preset {preset_id!r} (known: {', '.join(p.id for p in PRESETS)})")


def build_prompt(preset_id: str, words: str = "", *, seamless: bool = True) -> str:
    """The model prompt for a material: the artist's words first (they lead), then the
    preset's scaffolding. `seamless=False` when the request already asks for tiling
    (client.SEAMLESS is added when GenerationRequest.seamless is set)."""
    p = lookup(preset_id)
    words = " ".join(words.split())
    lead = f"{words.rstrip('.')}." if words else f"{p.label}."
    body = SCAFFOLD.format(subject=p.subject, details=p.details or "natural detail", scale=p.scale)
    return " ".join([lead, body] + ([SEAMLESS] if seamless else []))


# ---------------------------------------------------------------- editing a filled prompt
# The panel writes build_prompt's text into the prompt field, where the artist sees and
# edits it. These take it apart again, so switching presets or the Seamless toggle
# replaces the scaffolding instead of stacking it.
def _bodies() -> list[tuple[MaterialPreset, str]]:
    return [(p, SCAFFOLD.format(subject=p.subject, details=p.details or "natural detail", scale=p.scale))
            for p in PRESETS]


def artist_words(prompt: str) -> str:
    """The artist's own words in a prompt filled by build_prompt (any preset, with or
    without the seamless sentence); a prompt without scaffolding comes back as it is."""
    text = " ".join(prompt.split())
    for p, body in _bodies():
        if body in text:
            before, after = text.split(body, 1)
            words = before.strip()
            if words == f"{p.label}.":
                words = ""
            after = after.replace(SEAMLESS, "", 1).strip()
            return " ".join(w for w in (words.rstrip("."), after) if w)
    return prompt.strip()


def with_seamless_sentence(prompt: str, wanted: bool) -> str:
    """A filled prompt with the preset's seamless sentence added after the scaffolding or
    removed (the request's own seamless wording replaces it); other prompts unchanged."""
    text = " ".join(prompt.split())
    for _p, body in _bodies():
        if body in text:
            has = f"{body} {SEAMLESS}" in text
            if wanted and not has:
                return text.replace(body, f"{body} {SEAMLESS}", 1)
            if not wanted and has:
                return text.replace(f"{body} {SEAMLESS}", body, 1)
            return prompt
    return prompt
