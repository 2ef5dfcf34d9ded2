from laif.cli import main

main()
