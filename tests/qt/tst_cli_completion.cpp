// smtpc's bash completion (qtapp/cli/completion/smtpc) in a real bash, and its man page: the
// completion offers the values and accounts a person would type, and knows exactly the options
// smtpc --help lists; the man page has the sections help2man cannot take from --help.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

class TestCliCompletion : public QObject {
  Q_OBJECT
  QTemporaryDir configHome_;

  // What the completion offers for the command line `words`, the last one being completed.
  QStringList complete(const QStringList& words) {
    QString array;
    for (const QString& word : words) array += QLatin1Char('\'') + QString(word).replace("'", "'\\''") + "' ";
    const QString script = QStringLiteral("source '%1' || exit 3\n"
                                          "COMP_WORDS=(%2); COMP_CWORD=%3; _smtpc\n"
                                          "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
                               .arg(QStringLiteral(SMTPC_COMPLETION), array)
                               .arg(words.size() - 1);
    QProcess bash;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome_.path());
    bash.setProcessEnvironment(env);
    bash.start(QStringLiteral("bash"), {QStringLiteral("--norc"), QStringLiteral("-c"), script});
    if (!bash.waitForFinished(10000) || bash.exitCode() != 0) return {QStringLiteral("(bash failed) ") + bash.readAllStandardError()};
    QStringList offered = QString::fromUtf8(bash.readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    offered.sort();
    return offered;
  }

  static void write(const QString& path, const QByteArray& text) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(text);
  }

 private slots:
  void optionValues() {
    QCOMPARE(complete({"smtpc", "--security", "s"}), (QStringList{"starttls", "starttls-if-offered"}));
    QCOMPARE(complete({"smtpc", "-s", "mx", "--auth", ""}),
             (QStringList{"auto", "cram-md5", "login", "oauthbearer", "plain", "scram-sha-1", "scram-sha-256", "xoauth2"}));
    QCOMPARE(complete({"smtpc", "--quit-after", "a"}), QStringList{"auth"});
    QCOMPARE(complete({"smtpc", "--pass"}), (QStringList{"--password-env", "--password-stdin"}));
    QCOMPARE(complete({"smtpc", "--server", ""}), QStringList());  // a name of the person's own
  }

  void accountNames() {
    write(configHome_.filePath(QStringLiteral("smtpc/accounts")),
          "# mine\ndefault work\naccount work\nserver a\naccount home\nserver b\n");
    QCOMPARE(complete({"smtpc", "-a", ""}), (QStringList{"home", "work"}));
    QCOMPARE(complete({"smtpc", "--account", "w"}), QStringList{"work"});
    const QString other = configHome_.filePath(QStringLiteral("other-accounts"));
    write(other, "account relay\n");
    QCOMPARE(complete({"smtpc", "--accounts-file", other, "-a", ""}), QStringList{"relay"});
  }

  void fileNames() {
    QTemporaryDir dir;
    write(dir.filePath(QStringLiteral("message.eml")), "x");
    write(dir.filePath(QStringLiteral("notes.txt")), "x");
    for (const char* option : {"--data-file", "--data", "--attach", "--ca-file"})
      QCOMPARE(complete({"smtpc", option, dir.filePath(QStringLiteral("me"))}), QStringList{dir.filePath("message.eml")});
  }

  void knowsEveryOptionOfHelp() {
    QProcess smtpc;
    smtpc.start(QStringLiteral(SMTPC_CLI), {QStringLiteral("--help")});
    QVERIFY(smtpc.waitForFinished(10000));
    const QString help = QString::fromUtf8(smtpc.readAllStandardOutput());
    QSet<QString> fromHelp;
    const QString options = help.mid(help.indexOf(QStringLiteral("\nOptions:\n")));
    // "  -s, --server <HOST[:PORT]>", "  --data-file, --data <FILE>": the names before the value.
    for (const QString& line : options.split(QLatin1Char('\n'))) {
      const auto names = QRegularExpression(QStringLiteral("^  ((?:--?[a-z0-9-]+(?:, )?)+)")).match(line);
      if (names.hasMatch())
        for (const QString& name : names.captured(1).split(QStringLiteral(", "), Qt::SkipEmptyParts)) fromHelp.insert(name);
    }
    QVERIFY(fromHelp.contains(QStringLiteral("--accounts-file")) && fromHelp.contains(QStringLiteral("-a")));
    QFile script(QStringLiteral(SMTPC_COMPLETION));
    QVERIFY(script.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(script.readAll());
    const auto list = QRegularExpression(QStringLiteral("_smtpc_options='([^']*)'")).match(text);
    QVERIFY(list.hasMatch());
    const QStringList words = list.captured(1).split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
    const QSet<QString> inScript(words.begin(), words.end());
    QCOMPARE(inScript - fromHelp, QSet<QString>());  // none the CLI does not know
    QCOMPARE(fromHelp - inScript, QSet<QString>());  // none missing
  }

  void manPage() {
    if (QStringLiteral(SMTPC_MAN_PAGE).isEmpty()) QSKIP("help2man is not installed: no man page was made");
    QFile page(QStringLiteral(SMTPC_MAN_PAGE));
    QVERIFY(page.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(page.readAll());
    for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT",
                                ".SH FILES", ".SH EXAMPLES", ".SH \"SEE ALSO\""})
      QVERIFY2(text.contains(QLatin1String(section)), section);
    QVERIFY(text.contains(QStringLiteral("smtpc \\- test an SMTP server")));
    QVERIFY(text.contains(QStringLiteral("\\fB\\-\\-remember\\-password\\fR")));
    // Each example stays a line of its own, in a constant-width font.
    QVERIFY(text.contains(QStringLiteral("\\f(CW$ cat message.eml | smtpc -a work -t you@example.net --data -\\fR")));
    QVERIFY(text.contains(QStringLiteral("\\f(CW> password-command pass show mail/work\\fR")));
    QVERIFY2(text.contains(QStringLiteral(".SH SYNOPSIS\n.B smtpc\n")), "the program's name, not the build folder's path");
  }
};

QTEST_GUILESS_MAIN(TestCliCompletion)
#include "tst_cli_completion.moc"
