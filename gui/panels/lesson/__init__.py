"""The article as a lesson (lessonDock): steps, Do it, measured answers, verdicts, cloze game, worksheet."""
