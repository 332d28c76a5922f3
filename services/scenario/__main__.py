from services.scenario.main import main

main()
