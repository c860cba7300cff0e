from . import create_app

app = create_app()

if __name__ == "__main__":
    print("Serving flask_shop on http://0.0.0.0:5000")
    app.run(host="0.0.0.0", debug=True)
