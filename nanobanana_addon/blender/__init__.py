"""The thin bpy layer: the only package that imports bpy. It snapshots inputs, submits
jobs to core, and applies finished results on the main thread."""
