from rasplab import select, selector_width, tokens


def histogram():
    return selector_width(select(tokens, tokens, "=="))
