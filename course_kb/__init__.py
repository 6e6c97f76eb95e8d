"""The shipped course data (knowledge bases, personas, probe sets, prompt templates).

A package only so that a wheel installs it beside ``engine``: see engine.paths.COURSE_KB_DIR.
"""
