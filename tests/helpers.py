"""Reading responses as the user does."""
import html


def text(response) -> str:
    """The response as the user reads it (entities such as &#39; turned back into characters)."""
    return html.unescape(response.get_data(as_text=True))
