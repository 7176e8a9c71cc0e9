"""Issue 22's named survivors, each made by hand in a copy of the project and run against its tests.

`make mutation` measures whole modules; this checks the mutants issue 22 listed one by one, in a
temporary copy (the working tree is never changed), and fails if one survives. A case whose text is
no longer in its module is reported, not skipped silently: rewrite it after the code changed.

    .venv/bin/python scripts/mutation_spot_check.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent

# (what, module, text, mutated text, tests that must fail)
RESET = ["tests/accounts/test_reset_rules.py"]
CHOICES = ["tests/accounts/test_signin_choices.py"]
TOKENS = ["tests/sso/test_id_token_rules.py"]
CASES = [
    ("a completed reset clears every lockout", "accounts/services/passwords.py",
     "lift_username(user.username)", "lift_username(None)", RESET),
    ("a reset link works after deactivation", "accounts/services/passwords.py",
     "User.objects.get(pk=pk, is_active=True)", "User.objects.get(pk=pk)", RESET),
    ("the portal mails a deactivated user", "accounts/services/passwords.py",
     "    if not user.is_active:\n", "    if False:\n", RESET),
    ("finish() without the is_active re-check", "signin/controller.py",
     " or user is None or not user.is_active:", " or user is None:", CHOICES),
    ('password step: action == "sso" to !=', "signin/steps/password.py",
     'if action == "sso" and', 'if action != "sso" and', CHOICES),
    ("userinfo sub check: or to and", "sso/oidc.py",
     'if not isinstance(userinfo, dict) or userinfo.get("sub")',
     'if not isinstance(userinfo, dict) and userinfo.get("sub")', TOKENS),
    ("fetch_userinfo defaults to False", "sso/oidc.py",
     'get("fetch_userinfo", True)', 'get("fetch_userinfo", False)', TOKENS),
    ("ACCEPTED_ALGORITHMS & offered to |", "sso/oidc.py",
     "ACCEPTED_ALGORITHMS & offered", "ACCEPTED_ALGORITHMS | offered", TOKENS),
    ("HS256 accepted", "sso/oidc.py", '    "RS256", "RS384",', '    "HS256", "RS256", "RS384",', TOKENS),
    ("key loop: continue to break", "sso/oidc.py",
     "                continue\n", "                break\n", TOKENS),
    ('key use == "sig" not checked', "sso/oidc.py", ' or jwk.get("use", "sig") != "sig":', ":", TOKENS),
    ("a key's own alg not checked", "sso/oidc.py",
     'if jwk.get("alg", algorithm) != algorithm:', "if False:", TOKENS),
    ("sub not required", "sso/oidc.py",
     '["iss", "sub", "aud", "exp", "iat"]', '["iss", "aud", "exp", "iat"]', TOKENS),
    ("iat not required", "sso/oidc.py",
     '["iss", "sub", "aud", "exp", "iat"]', '["iss", "sub", "aud", "exp"]', TOKENS),
    ("no leeway", "sso/oidc.py", "leeway=CLOCK_SKEW_SECONDS,", "", TOKENS),
    ("a token without kid not refused first", "sso/oidc.py",
     "        if not kid:\n", "        if False:\n", TOKENS),
    ("an answer without id_token not refused", "sso/oidc.py",
     "        if not raw:\n", "        if False:\n", TOKENS),
    ("a key set without keys", "sso/oidc.py", '.get("keys", [])', '.get("keys")', TOKENS),
    ("a plain-string aud read as a list", "sso/oidc.py",
     'claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]', 'claims["aud"]', TOKENS),
    ("several audiences: and to or", "sso/oidc.py",
     'len(audiences) > 1 and claims.get("azp")', 'len(audiences) > 1 or claims.get("azp")', TOKENS),
    ("a malformed token not caught", "sso/oidc.py",
     "        except jwt.PyJWTError as exc:\n            raise TokenRejected(\"malformed_id_token\"",
     "        except ZeroDivisionError as exc:\n            raise TokenRejected(\"malformed_id_token\"",
     TOKENS),
    ("X-Forwarded-For split on whitespace", "accounts/clientip.py",
     'HTTP_X_FORWARDED_FOR", "").split(",")', 'HTTP_X_FORWARDED_FOR", "").split()',
     ["tests/accounts/test_clientip.py"]),
]


def main() -> int:
    bad = 0
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "project"
        shutil.copytree(SOURCE, root, ignore=shutil.ignore_patterns(
            ".venv", "mutants", "node_modules", ".git", "__pycache__", "staticfiles", "db.sqlite3*"))
        for name, path, old, new, tests in CASES:
            module = root / path
            original = module.read_text()
            if original.count(old) != 1:
                print(f"CHANGED  {name}: the text to mutate is not in {path} once", flush=True)
                bad += 1
                continue
            module.write_text(original.replace(old, new))
            try:
                command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
                run = subprocess.run(command, cwd=root, capture_output=True, text=True)  # noqa: S603
            finally:
                module.write_text(original)
            failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
            if run.returncode == 1 and failed:
                print(f"killed   {name}: {failed[0].removeprefix('FAILED ')}", flush=True)
            else:
                print(f"SURVIVED {name} (pytest exit {run.returncode})", flush=True)
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
