from rasplab import select, selector_width, tokens


def double_histogram():
    count = selector_width(select(tokens, tokens, "=="))
    same_count = selector_width(select(count, count, "=="))
    return same_count // count
