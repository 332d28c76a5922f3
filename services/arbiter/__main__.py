from services.arbiter.main import main

main()
