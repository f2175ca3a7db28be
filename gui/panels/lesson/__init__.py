"""The article as a lesson (lessonDock): steps, Do it, measured answers and verdicts, the cloze game, the worksheet."""
