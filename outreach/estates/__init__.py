"""Everything under /estates/<id>: the URL tells the file.

| URL                                                   | module                               |
| ----------------------------------------------------- | ------------------------------------ |
| /estates/<id>                                         | estates/walk.py (the walk list)      |
| /estates/<id>/revisits                                | estates/revisits.py                  |
| /estates/<id>/coverage, coverage.json, coverage/...   | estates/coverage/views.py            |
| /estates/<id>/assignments, assignments/<id>/end       | estates/assignments.py               |
| /estates/<id>/saturation                              | estates/saturation.py                |
| /estates/<id>/ready-list, /estates/<id>/pack          | pwa/views.py, with /ready-list       |

Each page module is its own blueprint, named as its URL segment (`revisits.index`, `saturation.index`,
`coverage.coverage`, `assignments.index`; the walk list is `estates.walk`). Their logic sits beside them:
service.py (walk and revisit lists, the estate's blocks and workers), rule.py (the saturation rule),
coverage/ (filters, map data, grid, door summary, page figures); assignments/service.py (assignments,
also shown on the home page and made ready offline).
"""
