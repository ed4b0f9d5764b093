"""The ``rnnx`` command (installed by ``pip install -e .``): ``serve``, ``prepare``, ``hash-password``.

``rnnx serve`` runs the app as ``python app.py`` does (its options set the environment
``app.py`` reads: ``HOST``, ``PORT``, ``RNNX_WARMUP``, ``RNNX_DEBUG``); ``rnnx prepare ...`` takes
exactly the arguments of ``python -m model.prepare``; ``rnnx hash-password`` prints a password
hash for ``RNNX_AUTH_FILE``. Nothing heavy is imported before a subcommand needs it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

MAX_PORT = 65535


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {value!r}") from None
    if not 1 <= number <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is 1 to {MAX_PORT}, not {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnx", description="RNN Explorer: hidden-state analytics of recurrent text classifiers."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the app (as python app.py does)")
    serve.add_argument("--host", help="address to listen on (HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (PORT; default 8050)")
    serve.add_argument(
        "--no-warmup", action="store_true", help="do not prepare the datasets in the background"
    )
    serve.add_argument("--debug", action="store_true", help="Dash's debug mode and reloader (RNNX_DEBUG=1)")
    commands.add_parser(
        "prepare",
        help="prepare an analysis (the arguments of python -m model.prepare; rnnx prepare --help)",
        add_help=False,
    )
    password = commands.add_parser("hash-password", help="print a password hash for RNNX_AUTH_FILE")
    password.add_argument("password", nargs="?", help="the password (asked for when left out)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    if args.host:
        os.environ["HOST"] = args.host
    if args.port:
        os.environ["PORT"] = str(args.port)
    if args.no_warmup:
        os.environ["RNNX_WARMUP"] = "0"
    if args.debug:
        os.environ["RNNX_DEBUG"] = "1"
    import app

    app.main()
    return 0


def _hash_password(args: argparse.Namespace) -> int:
    from serving import auth

    password = args.password
    if password is None:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    if not password:
        print("error: the password is empty", file=sys.stderr)
        return 2
    return auth.main(["hash", password])


def main(argv: list[str] | None = None) -> int:
    """``rnnx COMMAND ...``; the exit code of the command (2 for a usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "prepare":  # every argument goes to model.prepare unchanged
        from model import prepare_cli

        return prepare_cli.main(argv[1:], prog="rnnx prepare")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "hash-password":
        return _hash_password(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
