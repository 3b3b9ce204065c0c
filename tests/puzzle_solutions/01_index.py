from rasplab import aggregate, indices, select, tokens


def index(i):
    return aggregate(select(indices, i, "=="), tokens, "_")
