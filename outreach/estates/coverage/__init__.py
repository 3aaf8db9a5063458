"""Coverage of an estate for its team lead (/estates/<id>/coverage...): page, map data, grid, door summary.

Door statuses come from outreach.status alone; these modules only narrow the visits (worker, period),
count and lay out. The map data is built from tuples (no ORM object per door or visit) so an estate
of 10,000 doors and 50,000 visits is answered in one compact response.
"""
