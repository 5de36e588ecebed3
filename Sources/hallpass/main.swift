print("hallpass")
