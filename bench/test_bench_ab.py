"""bench.ab's renaming of a checkout (the comparison itself compiles two copies: run by hand)."""
from bench.ab import rename_package


def test_a_checkout_is_renamed_for_a_second_copy(tmp_path):
    (tmp_path / "salvosim").mkdir()
    (tmp_path / "salvosim" / "__init__.py").write_text(
        "from salvosim.engine.api import run\nimport salvosim\nx = 'salvosim run'\n")
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "kernel.py").write_text(
        "from salvosim.defenses.doctrine import a\nfrom salvosim import b\n"
        "y = salvosim_run_chunk = 1\ndef f():\n    import salvosim\n    from salvosim import c\n")
    (tmp_path / "engine" / "jit.py").write_text(
        'MANGLED_PACKAGE = "8salvosim"\nENTRY_POINT_MARK = MANGLED_PACKAGE + "x"\n'
        'LIGHT_LOAD_MODULES = ("salvosim.",)\nz = getattr(f, "salvosim_lazy", False)\n')
    rename_package(tmp_path, "salvosimB")
    assert not (tmp_path / "salvosim").exists()
    assert (tmp_path / "salvosimB" / "__init__.py").read_text() == (
        "from salvosimB.engine.api import run\nimport salvosimB\nx = 'salvosim run'\n")
    assert (tmp_path / "engine" / "kernel.py").read_text() == (
        "from salvosimB.defenses.doctrine import a\nfrom salvosimB import b\n"
        "y = salvosim_run_chunk = 1\ndef f():\n    import salvosimB\n    from salvosimB import c\n")
    # (the hooks' own marks, salvosim_*, are left alone)
    jit = (tmp_path / "engine" / "jit.py").read_text()
    assert 'MANGLED_PACKAGE = "9salvosim"\n' in jit          # a prefix of 9salvosimA, 9salvosimB
    assert 'ENTRY_POINT_MARK = "6engine6kernel9run_chunk"\n' in jit
    assert 'LIGHT_LOAD_MODULES = ("salvosimA.", "salvosimB.")\n' in jit
    assert 'getattr(f, "salvosim_lazy", False)' in jit
