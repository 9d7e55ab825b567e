"""Running the CLI in-process in tests."""
from salvosim.engine.cli import main


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of `salvosim ARGV`; argparse's exits count as statuses."""
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err
