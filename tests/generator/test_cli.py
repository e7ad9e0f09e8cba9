"""`loanops generate`: options, outputs and exit codes."""

from __future__ import annotations

from click.testing import CliRunner

from loanops_cli.main import main


def test_generate_writes_into_the_settings_landing_folder(data_dir):
    result = CliRunner().invoke(main, ["generate", "--rows", "300", "--seed", "1"])
    assert result.exit_code == 0, result.output
    landing = data_dir / "landing"
    assert sorted(p.name for p in landing.iterdir()) == [
        "applications_12100001_12100300.csv",
        "outcomes_12100001_12100300.csv",
    ]
    assert (data_dir / "truth" / "true_pd_12100001_12100300.csv").is_file()


def test_options_for_layout_first_id_name_and_truth_dir(tmp_path):
    out, truth = tmp_path / "in", tmp_path / "secret"
    args = ["generate", "--rows", "50", "--out", str(out), "--layout", "published"]
    args += ["--first-id", "900", "--name", "pub", "--truth-dir", str(truth), "--shift", "drift"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = (out / "pub.csv").read_text().splitlines()
    assert len(lines) == 51 and lines[1].startswith("900,")
    assert (truth / "true_pd_pub.csv").is_file()


def test_late_outcomes_through_the_cli(tmp_path):
    out = str(tmp_path / "in")
    runner = CliRunner()
    first = runner.invoke(
        main, ["generate", "--rows", "100", "--out", out, "--outcome-share", "0.5"]
    )
    assert first.exit_code == 0 and "--late-outcomes 12100001_12100100" in first.output
    late = runner.invoke(main, ["generate", "--out", out, "--late-outcomes", "12100001_12100100"])
    assert late.exit_code == 0, late.output
    assert (
        len((tmp_path / "in" / "outcomes_12100001_12100100_late.csv").read_text().splitlines())
        == 51
    )


def test_usage_errors_exit_2_and_failures_exit_1(tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "in")
    assert runner.invoke(main, ["generate", "--out", out]).exit_code == 2  # no --rows
    assert runner.invoke(main, ["generate", "--rows", "0", "--out", out]).exit_code == 2
    assert runner.invoke(main, ["generate", "--rows", "5", "--layout", "x"]).exit_code == 2
    assert runner.invoke(main, ["generate", "--rows", "5", "--outcome-share", "2"]).exit_code == 2
    ok = runner.invoke(main, ["generate", "--rows", "5", "--out", out, "--name", "a"])
    assert ok.exit_code == 0
    again = runner.invoke(main, ["generate", "--rows", "5", "--out", out, "--name", "a"])
    assert again.exit_code == 1 and "already exist" in again.output
    bad_name = runner.invoke(main, ["generate", "--rows", "5", "--out", out, "--name", "../x"])
    assert bad_name.exit_code == 1 and "may hold only" in bad_name.output
    missing = runner.invoke(main, ["generate", "--out", out, "--late-outcomes", "nope"])
    assert missing.exit_code == 1 and "no held-back outcomes" in missing.output


def test_help_explains_every_option():
    result = CliRunner().invoke(main, ["generate", "--help"])
    assert result.exit_code == 0
    for option in ("--rows", "--seed", "--out", "--layout", "--first-id", "--name"):
        assert option in result.output
    for option in ("--outcome-share", "--truth-dir", "--shift", "--late-outcomes"):
        assert option in result.output
