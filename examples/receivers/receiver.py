# A shop's endpoint for Casebook's webhooks: verifies every signature, answers each webhook-id once.
# RECEIVER_SECRET=whsec_... PORT=4000 python3 examples/receivers/receiver.py   (pip install standardwebhooks)
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["RECEIVER_SECRET"])
answers = {}  # webhook-id -> the first answer: a repeat is answered the same
paid = 0


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = webhook.verify(body, dict(self.headers))  # signature and a timestamp within 5 minutes
        except WebhookVerificationError:
            self.send_response(401)
            self.end_headers()
            return
        id = self.headers["webhook-id"]
        if id not in answers:
            answers[id] = self.answer(event)
        print(event["type"], id, flush=True)
        reply = json.dumps(answers[id]).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def answer(self, event):
        global paid
        if event["type"] != "refund.request":
            return {}
        paid += 1
        return {"status": "issued", "reference": f"R-{paid}"}

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "4000"))), Receiver).serve_forever()
