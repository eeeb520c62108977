"""`python -m lstmkit` (and `torchrun ... -m lstmkit`): the command line."""

from lstmkit.cli import main

main()
