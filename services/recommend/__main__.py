from services.recommend.main import main

main()
