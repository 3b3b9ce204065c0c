from rasplab import aggregate, select, selector_width, tokens


def minimum():
    smaller = selector_width(select(tokens, tokens, "<"))
    is_min = smaller == 0
    return aggregate(select(is_min, True, "=="), tokens)
