from videomerge_cli.main import main

main()
