"""The grader's commands: what students and instructors run.

    check.py      check("ex03") in a notebook: one exercise, in a process of its own, as a table
    exercises.py  python -m chatkit check: pytest exercises/ from any folder, any Python, any OS
    progress.py   python -m chatkit progress: where you stand on the ladder, what is next, its first hint
    watch.py      python -m chatkit watch: the exercise you are on, graded again on every save
    reset.py      python -m chatkit reset ex03: an exercise file back to its stub (asks first)
    grade.py      python -m chatkit grade: a whole class, N students at a time, into a gradebook
    samefiles.py  each exercise file graded once a batch: a copy of a file gets its results
    summary.py    the instructor's summary of a class: scores, statuses, the tests failed most
    run.py        pytest on the kit's tests in a process of its own, with a time limit (all of them)
"""
