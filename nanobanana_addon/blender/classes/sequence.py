"""Declaration of Edit Sequence (name, tooltip, properties); its code is
`blender/sequence_ops.py` (`EditSequence`), loaded on the first call."""
import bpy
from bpy.props import BoolProperty, StringProperty

from ..lazy import behaviour


@behaviour("sequence_ops:EditSequence", "poll", "execute")
class NANOBANANA_OT_edit_sequence(bpy.types.Operator):
    """Edit every frame of an image sequence with the prompt, in one style: the first edited
    frame goes along as a reference with the others. Written as numbered files next to the
    originals and loaded as an image sequence"""
    bl_idname = "nanobanana.edit_sequence"
    bl_label = "Edit Sequence"
    bl_options = {"REGISTER"}

    filepath: StringProperty(  # type: ignore[valid-type]
        name="Sequence", subtype="FILE_PATH", options={"SKIP_SAVE"},
        description="One numbered file of the sequence, or a pattern such as shot_####.png "
                    "(default: the image sequence in the Image Editor)")
    frames: StringProperty(  # type: ignore[valid-type]
        name="Frames", options={"SKIP_SAVE"},
        description="Only these frames, as START-END (default: the whole sequence)")
    use_renders: BoolProperty(  # type: ignore[valid-type]
        name="Rendered Frames", options={"SKIP_SAVE"},
        description="The scene's frame range, as rendered to the Output path")
    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output Folder", subtype="DIR_PATH", options={"SKIP_SAVE"},
        description="Where the edited frames go (default: next to the originals)")


CLASSES = (NANOBANANA_OT_edit_sequence,)
