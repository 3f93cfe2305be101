"""Runs robin_stocks (3.4.0, independent of ordergate) in a process of its own: its session, login state and URLs
are module globals, its login asks for the verification code with input() and polls with time.sleep. Imports
nothing of ours.

stdin: {"url", "username", "password", "code", "home", "steps": [{"op": "account" | "order" | "cancel", "id"?}]}
stdout: {"version", "login": robin_stocks' login answer, "results": [what robin_stocks returned, per step]}
"""

import builtins
import contextlib
import importlib.metadata
import io
import json
import sys
import time

import requests
from robin_stocks.robinhood import authentication, globals, helper, orders, profiles

HOST = "https://api.robinhood.com"


class Redirect(requests.adapters.HTTPAdapter):
    """robin_stocks hard-codes https://api.robinhood.com in urls.py and authentication.py: send it to the simulator."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request, **kwargs):
        request.url = self.target + request.url[len(HOST) :]
        return super().send(request, **kwargs)


def main() -> None:
    job = json.load(sys.stdin)
    globals.SESSION.mount(HOST, Redirect(job["url"]))
    prompts = []
    builtins.input = lambda prompt="": prompts.append(prompt) or job["code"]  # the code "sent by sms"
    time.sleep = lambda _s: None  # its polling waits 5 s between calls
    chatter = io.StringIO()
    helper.set_output(chatter)  # its own messages go to the stream it was given, stdout by default
    with contextlib.redirect_stdout(chatter):
        login = authentication.login(job["username"], job["password"], store_session=True, pickle_path=job["home"])
        results = []
        for step in job.get("steps", []):
            if step["op"] == "account":
                results.append(profiles.load_account_profile())
            elif step["op"] == "order":
                results.append(orders.get_stock_order_info(step["id"]))
            elif step["op"] == "cancel":
                results.append(orders.cancel_stock_order(step["id"]))
            else:
                raise ValueError(step["op"])
    out = {"version": importlib.metadata.version("robin_stocks"), "login": login, "prompts": prompts,
           "results": results, "session": dict(globals.SESSION.headers)}  # fmt: skip
    out["session"].pop("Authorization", None)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
