"""Pure-Python core of Nano Banana: never imports bpy, mathutils or gpu.

Heavy dependencies (google-genai, Pillow) are imported lazily inside the functions that
need them, so importing this package costs nothing at Blender start-up.
"""
