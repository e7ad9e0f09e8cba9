"""The sub-commands of the `loanops` console script, one module each."""
