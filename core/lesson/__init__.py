"""The article as a lesson: its steps, its numbers (with § references) and the rules that compare them
with what a real model measures. Qt-free; the lesson panel drives the app and calls these."""
