"""Runs inside the pyetrade venv (tests/support/oracle_venvs.py), never in the test venv: imports nothing of ours.

pyetrade keeps E*TRADE's hosts in instance attributes set by its constructors; this script points them at the
simulator and otherwise uses pyetrade as its README does.

stdin: {"url", "consumerKey", "consumerSecret", "token"?, "tokenSecret"?, "steps": [{"op": ..., ...}]}
stdout: {"version", "results": [{"ok": <pyetrade's answer>} | {"error": <exception class>, "message", "status"?}]}
"""

import json
import re
import sys

import pyetrade
import requests


def main() -> None:
    job = json.load(sys.stdin)
    url, ck, cs = job["url"], job["consumerKey"], job["consumerSecret"]
    token, secret = job.get("token"), job.get("tokenSecret")
    results = []
    for step in job["steps"]:
        op = step["op"]
        try:
            if op == "connect":
                oauth = pyetrade.ETradeOAuth(ck, cs)
                oauth.req_token_url = url + "/oauth/request_token"
                oauth.access_token_url = url + "/oauth/access_token"
                oauth.auth_token_url = url + "/e/t/etws/authorize"
                authorize_url = oauth.get_request_token()
                page = requests.get(authorize_url, timeout=30)
                page.raise_for_status()
                verifier = re.search(r'value="([A-Z0-9]+)"', page.text)[1]
                tokens = oauth.get_access_token(verifier)
                token, secret = tokens["oauth_token"], tokens["oauth_token_secret"]
                answer = {"authorizeUrl": authorize_url, "token": token, "secret": secret}
            elif op == "renew":
                manager = pyetrade.ETradeAccessManager(ck, cs, token, secret)
                manager.renew_access_token_url = url + "/oauth/renew_access_token"
                answer = manager.renew_access_token()
            elif op == "accounts":
                accounts = pyetrade.ETradeAccounts(ck, cs, token, secret, dev=True)
                accounts.base_url = url + "/v1/accounts"
                answer = accounts.list_accounts(resp_format=step.get("format", "json"))
            else:
                orders = pyetrade.ETradeOrder(ck, cs, token, secret, dev=True)
                orders.base_url = url + "/v1/accounts"
                key = step["accountIdKey"]
                if op == "place":
                    answer = orders.place_equity_order(
                        accountIdKey=key,
                        symbol=step["symbol"],
                        orderAction=step["action"],
                        clientOrderId=step["clientOrderId"],
                        priceType=step["priceType"],
                        quantity=step["quantity"],
                        limitPrice=step.get("limitPrice", 0),
                        orderTerm="GOOD_FOR_DAY",
                        marketSession="REGULAR",
                    )
                elif op == "list":
                    answer = orders.list_orders(key, status=step.get("status"), resp_format="json")
                elif op == "detail":
                    answer = orders.list_order_details(key, step["orderId"], resp_format="json")
                elif op == "cancel":
                    answer = orders.cancel_order(key, step["orderId"], resp_format=step.get("format", "json"))
                else:
                    raise ValueError(f"unknown op {op}")
            results.append({"ok": answer})
        except Exception as exc:  # the oracle's own exception is the observation
            status = getattr(getattr(exc, "response", None), "status_code", None)
            results.append({"error": type(exc).__name__, "message": str(exc)[:500], "status": status})
    json.dump({"version": pyetrade.__version__, "results": results}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
