"Helpers shared by the command-line tests (not a test module: pytest collects only test_*.py)"

def cli(capsys, *argv):
    "`relu_nb *argv` in this process, for what needs no process of its own: (exit status, standard output, standard error)"
    from relu_nb.cli import main
    capsys.readouterr()
    try: main(list(argv)); code = 0
    except SystemExit as e: code = e.code
    out, err = capsys.readouterr()
    return code, out, err
