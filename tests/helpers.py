"""Small helpers shared by tests."""


def achieved_for(goal, value="1") -> dict:
    """The data a `complete` request needs: an achieved value for every indicator."""
    return {"achieved": {str(i.id): value for i in goal.indicators}}
