from rasplab import aggregate, indices, select, tokens


def shift(i, default):
    return aggregate(select(indices, indices - i, "=="), tokens, default)
