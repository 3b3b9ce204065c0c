from rasplab import select, selector_width, tokens


def length():
    return selector_width(select(tokens, tokens, "true"))
