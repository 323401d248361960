from netralitas.cli import main

main()
