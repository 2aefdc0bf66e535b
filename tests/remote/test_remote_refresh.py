"""Acceptance 4: eight concurrent CLI processes across an access-token expiry all succeed.

The servers' access tokens live 3 s. After the login, the test waits for the token to expire
and starts eight real `accunode` processes at once on the same saved login: exactly one may
spend the refresh token (the others wait for the file lock and re-read), or the server's reuse
detection would end the session and some would exit 4. Twice, to cross two expiries.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from api_helpers import ACCUNODE
from remote_helpers import PASSWORD, Stack, clean_env, run_process


def test_eight_processes_across_an_expiry_all_succeed(stack: Stack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = clean_env(ACCUNODE_CONFIG_DIR=str(config))
    email = stack.register()
    login = subprocess.run(
        [ACCUNODE, "login", "--api-url", stack.url, "--email", email, "--password-stdin"],
        input=PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    saved = config / "logins.json"
    tokens = [json.loads(saved.read_text())["logins"][stack.url]["refresh_token"]]
    for _ in range(2):
        expires = json.loads(saved.read_text())["logins"][stack.url]["expires_at"]
        time.sleep(max(0.0, expires - time.time() + 0.2))
        processes = [
            subprocess.Popen(
                [ACCUNODE, "company", "list", "--json"],
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            for _ in range(8)
        ]
        results = [(p.wait(timeout=120), p.stdout, p.stderr) for p in processes]
        outputs = [(code, out.read() if out else "", err.read() if err else "")
                   for code, out, err in results]  # fmt: skip
        for process in processes:
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        assert [code for code, _, _ in outputs] == [0] * 8, outputs
        assert all(json.loads(out)["total"] == 0 for _, out, _ in outputs)
        tokens.append(json.loads(saved.read_text())["logins"][stack.url]["refresh_token"])
    assert len(set(tokens)) == 3  # one refresh per expiry, not one per process
    assert os.stat(saved).st_mode & 0o777 == 0o600
    survived = run_process(["whoami", "--json"], env=env)
    assert survived.returncode == 0 and json.loads(survived.stdout)["email"] == email
