"""The `loanops` console script: the top layer, which may import every other package."""
