from rasplab import aggregate, indices, length, select, tokens

reverse = aggregate(select(indices, length - indices - 1, "=="), tokens)
