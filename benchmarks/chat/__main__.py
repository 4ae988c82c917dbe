from benchmarks.chat.run import main

if __name__ == "__main__":
    main()
