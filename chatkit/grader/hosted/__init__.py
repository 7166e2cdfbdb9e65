"""Grading where the class hands in: Gradescope's autograder and GitHub Classroom's workflow.

    gradescope.py   python -m chatkit gradescope OUT.zip: the autograder bundle; its run_autograder
    classroom.py    python -m chatkit classroom REPO: grade a student's repository in GitHub Actions

Both grade the way `python -m chatkit grade` does (a clean copy of the
kit's tests with only the student's exercise files, the walls around
student code), and both leave a result even when grading fails early.
"""
