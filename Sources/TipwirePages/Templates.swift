/// The pages' Mustache templates, compiled into the binary so a deployment carries no template files.
/// Every page extends `layout`. Words come from `t` (the reader's `Wording`), never from the template.
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "sign-in": signIn, "overview": overview, "agencies": agencies, "agency": agency, "tasks": tasks, "overdue": overdue,
        "escalations": escalations, "scorecard": scorecard, "problem": problem, "inbox": inbox, "inbox-task": inboxTask,
        "desk": desk, "desk-finding": deskFinding, "fields": fields, "form": form, "form-page": formPage, "list": list, "record": record,
    ]

    /// Every kind of field a form has; a field's error is next to it and named by it.
    static let fields = """
        {{#fields}}
        {{#sealed}}<fieldset class="sealing" id="{{id}}" hidden data-newsroom="{{newsroom}}" data-key-id="{{keyID}}" data-public-key="{{publicKey}}">
          <legend>{{label}} ({{t.optional}})</legend>
          <label for="{{id}}-details">{{t.seal-details}}</label>
          <textarea id="{{id}}-details" rows="3" autocomplete="off" spellcheck="false" aria-describedby="{{id}}-help"></textarea>
          <input type="hidden" name="{{name}}" value="">
          <p class="help" id="{{id}}-help">{{help}}</p>
          <p class="error seal-failed" role="alert" hidden>{{t.seal-failed}}</p>
        </fieldset>{{/sealed}}
        {{^sealed}}<label for="{{id}}">{{label}}{{^required}} ({{t.optional}}){{/required}}</label>{{/sealed}}
        {{#text}}<input id="{{id}}" name="{{name}}" type="text" maxlength="500" value="{{value}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/text}}
        {{#url}}<input id="{{id}}" name="{{name}}" type="url" value="{{value}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/url}}
        {{#date}}<input id="{{id}}" name="{{name}}" type="date" value="{{value}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/date}}
        {{#datetime}}<input id="{{id}}" name="{{name}}" type="datetime-local" value="{{value}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/datetime}}
        {{#number}}<input id="{{id}}" name="{{name}}" type="number" min="1" max="365" value="{{value}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/number}}
        {{#textarea}}<textarea id="{{id}}" name="{{name}}" rows="4"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{value}}</textarea>{{/textarea}}
        {{#select}}<select id="{{id}}" name="{{name}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>{{/select}}
        {{#file}}<input id="{{id}}" name="{{name}}" type="file"{{#multiple}} multiple{{/multiple}}{{#accept}} accept="{{accept}}"{{/accept}}{{#required}} required{{/required}}{{#error}} aria-invalid="true"{{/error}}{{#describedBy}} aria-describedby="{{describedBy}}"{{/describedBy}}>{{/file}}
        {{^sealed}}{{#help}}<p class="help" id="{{id}}-help">{{help}}</p>{{/help}}{{/sealed}}
        {{#error}}<p class="error" id="{{id}}-error">{{error}}</p>{{/error}}
        {{/fields}}
        """

    /// One form as a card: its heading, its token and key, its fields, and its button.
    static let form = """
        <form method="post" action="{{action}}" class="card" aria-labelledby="{{id}}"{{#multipart}} enctype="multipart/form-data"{{/multipart}}>
          <h3 id="{{id}}">{{label}}</h3>
          {{^multipart}}<input type="hidden" name="csrf" value="{{csrf}}">{{/multipart}}
          <input type="hidden" name="key" value="{{key}}">
          {{#formError}}<p class="error" role="alert">{{formError}}</p>{{/formError}}
          {{> fields}}
          <button type="submit">{{label}}</button>
        </form>
        """

    static let layout = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · tipwire</title>
        {{#script}}<script src="{{src}}" integrity="{{integrity}}" defer></script>{{/script}}
        <style>{{{style}}}</style>
        </head>
        <body>
        <a class="skip" href="#main">{{t.skip}}</a>
        <header class="top">
          <p class="brand">{{t.app}}</p>
          {{#signedIn}}
          <nav aria-label="{{t.nav}}">
            <ul>
              {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}
            </ul>
          </nav>
          {{/signedIn}}
          <div class="tools">
            <ul class="languages" aria-label="{{t.language}}">
              {{#languages}}<li><a href="{{href}}" lang="{{code}}" hreflang="{{code}}"{{#current}} aria-current="true"{{/current}}>{{label}}</a></li>{{/languages}}
            </ul>
            {{#signedIn}}
            <form method="post" action="/dashboard/sign-out" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}">
              <span>{{t.signed-in-as}} {{signedIn}}</span>
              <button type="submit">{{t.sign-out}}</button>
            </form>
            {{/signedIn}}
          </div>
        </header>
        <main id="main">
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{$main}}{{/main}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        {{<layout}}{{$main}}
        {{#error}}<p class="error" role="alert" id="sign-in-error">{{error}}</p>{{/error}}
        <form method="post" action="/dashboard/sign-in" class="card">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="next" value="{{next}}">
          <label for="token">{{t.token}}</label>
          <input id="token" name="token" type="password" required aria-describedby="token-help{{#error}} sign-in-error{{/error}}">
          <p id="token-help" class="help">{{t.token-help}}</p>
          <button type="submit">{{t.sign-in}}</button>
        </form>
        {{/main}}{{/layout}}
        """

    /// Two forms, so that neither needs a script: a named period, or a range of days.
    static let periodForm = """
        <div class="periods">
        <form method="get" class="period" aria-label="{{t.period}}">
          {{#keep}}<input type="hidden" name="{{name}}" value="{{value}}">{{/keep}}
          <label for="period">{{t.period}}</label>
          <select id="period" name="period">
            {{#period.groups}}<optgroup label="{{label}}">{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{text}}</option>{{/options}}</optgroup>{{/period.groups}}
          </select>
          <button type="submit">{{t.show}}</button>
        </form>
        <form method="get" class="period" aria-label="{{t.custom-range}}">
          {{#keep}}<input type="hidden" name="{{name}}" value="{{value}}">{{/keep}}
          <label for="from">{{t.from}}</label> <input id="from" name="from" type="date" value="{{period.from}}">
          <label for="to">{{t.to}}</label> <input id="to" name="to" type="date" value="{{period.to}}">
          <button type="submit">{{t.show}}</button>
        </form>
        <p class="shown">{{period.shown}}</p>
        {{#period.figures}}<p class="shown">{{period.figures}}</p>{{/period.figures}}
        </div>
        """

    static let overview = """
        {{<layout}}{{$main}}
        \(periodForm)
        <section aria-labelledby="figures-heading">
        <h2 id="figures-heading">{{t.main-figures}}</h2>
        <div class="figures">
          {{#figures}}<dl class="figure"><dt>{{label}}</dt><dd>{{#href}}<a href="{{href}}">{{value}}</a>{{/href}}{{^href}}{{value}}{{/href}}{{#trend}} <span class="trend">({{trend}} {{t.previous-period}})</span>{{/trend}}</dd></dl>{{/figures}}
        </div>
        </section>
        <section aria-labelledby="trend-heading">
        <h2 id="trend-heading">{{t.trend}}</h2>
        {{{trendChart}}}
        </section>
        {{/main}}{{/layout}}
        """

    static let agencies = """
        {{<layout}}{{$main}}
        \(periodForm)
        <table class="data">
          <caption>{{caption}}</caption>
          <thead><tr>
            {{#columns}}<th scope="col"{{#sort}} aria-sort="{{sort}}"{{/sort}}><a href="{{href}}">{{label}}<span class="visually-hidden"> — {{t.sort-by}}</span></a></th>{{/columns}}
          </tr></thead>
          <tbody>
            {{#rows}}<tr>
              <th scope="row"><a href="{{detail}}">{{name}}</a> <span class="code">{{code}}</span></th>
              {{#cells}}<td>{{#href}}<a href="{{href}}">{{text}}</a>{{/href}}{{^href}}{{text}}{{/href}}</td>{{/cells}}
            </tr>{{/rows}}
          </tbody>
        </table>
        <p class="help">{{insufficientNote}}</p>
        {{/main}}{{/layout}}
        """

    static let agency = """
        {{<layout}}{{$main}}
        \(periodForm)
        <table class="data">
          <caption>{{t.stage}}</caption>
          <thead><tr><th scope="col">{{t.stage}}</th><th scope="col">{{t.count}}</th><th scope="col">{{t.p50}}</th><th scope="col">{{t.p90}}</th><th scope="col">{{t.p99}}</th><th scope="col">{{t.on-time}}</th></tr></thead>
          <tbody>
            {{#stages}}<tr><th scope="row">{{label}}</th><td>{{count}}</td><td>{{p50}}</td><td>{{p90}}</td><td>{{p99}}</td><td>{{onTime}}</td></tr>{{/stages}}
          </tbody>
        </table>
        <div class="figures">
          {{#figures}}<dl class="figure"><dt>{{label}}</dt><dd>{{#href}}<a href="{{href}}">{{value}}</a>{{/href}}{{^href}}{{value}}{{/href}}</dd></dl>{{/figures}}
        </div>
        <section aria-labelledby="distribution-heading"><h2 id="distribution-heading">{{t.distribution}}</h2>{{{distributionChart}}}</section>
        <section aria-labelledby="backlog-heading"><h2 id="backlog-heading">{{t.backlog}}</h2>{{{backlogChart}}}</section>
        <section aria-labelledby="escalations-heading"><h2 id="escalations-heading">{{t.escalations}}</h2>
        {{> escalationList}}
        </section>
        {{/main}}{{/layout}}
        """

    static let escalationList = """
        {{^escalations}}<p>{{t.no-escalations}}</p>{{/escalations}}
        {{#hasEscalations}}
        <table class="data">
          <caption>{{t.escalations}}</caption>
          <thead><tr><th scope="col">{{t.raised}}</th><th scope="col">{{t.kind}}</th><th scope="col">{{t.finding}}</th><th scope="col">{{t.stage}}</th><th scope="col">{{t.holder}}</th><th scope="col">{{t.acknowledge}}</th></tr></thead>
          <tbody>
          {{#escalations}}<tr>
            <td>{{raised}}</td><td>{{kind}} ({{t.rung}} {{rung}})</td><td><a href="{{taskHref}}">{{title}}</a></td><td>{{stage}}</td><td>{{holder}}</td>
            <td>{{#acknowledged}}{{t.acknowledged-by}} {{acknowledgedBy}}: {{note}}{{/acknowledged}}
            {{^acknowledged}}{{#canAcknowledge}}
              <form method="post" action="/dashboard/escalations/{{id}}/acknowledge" class="acknowledge">
                <input type="hidden" name="csrf" value="{{csrf}}">
                <label for="note-{{id}}">{{t.note}}</label>
                <input id="note-{{id}}" name="note" required maxlength="2000" aria-describedby="note-help-{{id}}">
                <span id="note-help-{{id}}" class="help">{{t.note-help}}</span>
                <button type="submit">{{t.acknowledge}}</button>
              </form>
            {{/canAcknowledge}}{{/acknowledged}}</td>
          </tr>{{/escalations}}
          </tbody>
        </table>
        {{/hasEscalations}}
        {{#next}}<p><a rel="next" href="{{next}}">{{t.more}}</a></p>{{/next}}
        """

    static let escalations = """
        {{<layout}}{{$main}}
        <p><a href="?state=open">{{t.open-only}}</a> · <a href="?state=acknowledged">{{t.acknowledged-only}}</a> · <a href="?">{{t.all}}</a></p>
        {{> escalationList}}
        {{/main}}{{/layout}}
        """

    static let tasks = """
        {{<layout}}{{$main}}
        <p><a href="{{openHref}}">{{t.open-only}}</a> · <a href="{{allHref}}">{{t.all}}</a></p>
        {{^tasks}}<p>{{t.no-tasks}}</p>{{/tasks}}
        {{#hasTasks}}
        <table class="data">
          <caption>{{caption}}</caption>
          <thead><tr><th scope="col">{{t.finding}}</th><th scope="col">{{t.agency}}</th><th scope="col">{{t.state}}</th><th scope="col">{{t.assigned}}</th><th scope="col">{{t.due}}</th></tr></thead>
          <tbody>
          {{#tasks}}<tr><td><span class="code">{{id}}</span></td><td>{{agency}}</td><td>{{state}}</td><td>{{assigned}}</td><td>{{due}}</td></tr>{{/tasks}}
          </tbody>
        </table>
        {{/hasTasks}}
        {{#next}}<p><a rel="next" href="{{next}}">{{t.more}}</a></p>{{/next}}
        {{/main}}{{/layout}}
        """

    static let overdue = """
        {{<layout}}{{$main}}
        {{^groups}}<p>{{t.nothing-overdue}}</p>{{/groups}}
        {{#groups}}
        <section aria-labelledby="holder-{{code}}">
        <h2 id="holder-{{code}}">{{code}} ({{count}})</h2>
        <table class="data">
          <caption>{{t.overdue}}: {{code}}</caption>
          <thead><tr><th scope="col">{{t.finding}}</th><th scope="col">{{t.stage}}</th><th scope="col">{{t.due}}</th><th scope="col">{{t.late-by}}</th><th scope="col">{{t.rung}}</th></tr></thead>
          <tbody>
          {{#items}}<tr><td>{{title}}</td><td>{{stage}}</td><td>{{due}}</td><td>{{late}}</td><td>{{rung}}</td></tr>{{/items}}
          </tbody>
        </table>
        </section>
        {{/groups}}
        {{/main}}{{/layout}}
        """

    static let scorecard = """
        {{<layout}}{{$main}}
        <p class="no-print"><a href="{{csvHref}}">{{t.download-csv}}</a></p>
        <section aria-labelledby="method-heading">
        <h2 id="method-heading">{{t.method}}</h2>
        <ul>{{#method}}<li>{{.}}</li>{{/method}}</ul>
        </section>
        <table class="data scorecard">
          <caption>{{title}}</caption>
          <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
          <tbody>
          {{#rows}}<tr><th scope="row">{{name}} <span class="code">{{code}}</span></th>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}
          </tbody>
        </table>
        <p class="help">{{asOf}}</p>
        {{/main}}{{/layout}}
        """

    static let inbox = """
        {{<layout}}{{$main}}
        {{^tasks}}<p>{{t.no-open-tasks}}</p>{{/tasks}}
        {{#hasTasks}}
        <table class="data">
          <caption>{{t.inbox-caption}}</caption>
          <thead><tr><th scope="col">{{t.finding}}</th><th scope="col">{{t.state}}</th><th scope="col">{{t.stage}}</th><th scope="col">{{t.due}}</th><th scope="col">{{t.assigned}}</th></tr></thead>
          <tbody>
          {{#tasks}}<tr{{#late}} class="late"{{/late}}><td><a href="{{href}}">{{title}}</a></td><td>{{state}}</td><td>{{stage}}</td><td>{{#late}}<strong>{{t.overdue}}:</strong> {{/late}}{{due}}</td><td>{{assigned}}</td></tr>{{/tasks}}
          </tbody>
        </table>
        {{/hasTasks}}
        {{#next}}<p><a rel="next" href="{{next}}">{{t.more}}</a></p>{{/next}}
        {{/main}}{{/layout}}
        """

    /// A task and the forms of its allowed actions; a field's error is next to it and named by it.
    static let inboxTask = """
        {{<layout}}{{$main}}
        <dl class="facts">
          <dt>{{t.state}}</dt><dd>{{state}}</dd>
          {{#due}}<dt>{{t.due}}</dt><dd>{{due}}</dd>{{/due}}
          <dt>{{t.newsroom}}</dt><dd>{{newsroom}}</dd>
          <dt>{{t.category}}</dt><dd>{{category}}</dd>
          <dt>{{t.jurisdiction}}</dt><dd>{{jurisdiction}}</dd>
          {{#articleURL}}<dt>{{t.article}}</dt><dd><a href="{{articleURL}}" rel="noreferrer noopener">{{articleURL}}</a></dd>{{/articleURL}}
        </dl>
        {{#summary}}<section aria-labelledby="summary-heading"><h2 id="summary-heading">{{t.summary}}</h2><p>{{summary}}</p></section>{{/summary}}
        <section aria-labelledby="documents-heading">
        <h2 id="documents-heading">{{t.documents}}</h2>
        {{^hasDocuments}}<p>{{t.no-documents}}</p>{{/hasDocuments}}
        {{#hasDocuments}}<ul>{{#documents}}<li><a href="{{href}}">{{t.download}} <span class="code">{{id}}</span></a> ({{type}}, {{size}} {{t.bytes}})</li>{{/documents}}</ul>{{/hasDocuments}}
        </section>
        <section aria-labelledby="actions-heading">
        <h2 id="actions-heading">{{t.actions}}</h2>
        {{^hasActions}}<p>{{t.no-actions}}</p>{{/hasActions}}
        {{#actions}}{{> form}}{{/actions}}
        </section>
        <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">{{t.timeline}}</h2>
        <ol class="timeline">{{#events}}<li><time>{{at}}</time> · {{kind}} · <span class="code">{{actor}}</span></li>{{/events}}</ol>
        </section>
        {{/main}}{{/layout}}
        """

    static let desk = """
        {{<layout}}{{$main}}
        <p><a href="/desk/findings/new" class="button">{{t.submit-finding}}</a></p>
        <ul class="filters">{{#filters}}<li><a href="{{href}}"{{#current}} aria-current="true"{{/current}}>{{label}}</a></li>{{/filters}}</ul>
        {{^findings}}<p>{{t.no-findings}}</p>{{/findings}}
        {{#hasFindings}}
        <table class="data">
          <caption>{{t.desk-caption}}</caption>
          <thead><tr><th scope="col">{{t.finding}}</th><th scope="col">{{t.received}}</th><th scope="col">{{t.tasks}}</th><th scope="col">{{t.accounted-for}}</th></tr></thead>
          <tbody>
          {{#findings}}<tr><td><a href="{{href}}">{{title}}</a></td><td>{{received}}</td><td>{{tasks}}</td><td>{{accounted}}</td></tr>{{/findings}}
          </tbody>
        </table>
        {{/hasFindings}}
        {{#next}}<p><a rel="next" href="{{next}}">{{t.more}}</a></p>{{/next}}
        {{/main}}{{/layout}}
        """

    static let deskFinding = """
        {{<layout}}{{$main}}
        <dl class="facts">
          <dt>{{t.received}}</dt><dd>{{received}}</dd>
          <dt>{{t.published}}</dt><dd>{{published}}</dd>
          <dt>{{t.category}}</dt><dd>{{category}}</dd>
          <dt>{{t.jurisdiction}}</dt><dd>{{jurisdiction}}</dd>
          {{#subject}}<dt>{{t.field-subject_agency}}</dt><dd>{{subject}}</dd>{{/subject}}
          <dt>{{t.article}}</dt><dd><a href="{{articleURL}}" rel="noreferrer noopener">{{articleURL}}</a></dd>
          <dt>{{t.accounted-for}}</dt><dd>{{accounted}}</dd>
          {{#sourceHandle}}<dt>{{t.source-sealed}}</dt><dd><span class="code">{{sourceHandle}}</span></dd>{{/sourceHandle}}
        </dl>
        <section aria-labelledby="summary-heading"><h2 id="summary-heading">{{t.summary}}</h2><p>{{summary}}</p></section>
        <section aria-labelledby="documents-heading">
        <h2 id="documents-heading">{{t.documents}}</h2>
        {{^hasDocuments}}<p>{{t.no-documents}}</p>{{/hasDocuments}}
        {{#hasDocuments}}<ul>{{#documents}}<li><a href="{{href}}">{{t.download}} <span class="code">{{id}}</span></a> ({{type}}, {{size}} {{t.bytes}})</li>{{/documents}}</ul>{{/hasDocuments}}
        </section>
        <section aria-labelledby="tasks-heading">
        <h2 id="tasks-heading">{{t.tasks}}</h2>
        {{^hasTasks}}<p>{{t.no-tasks}}</p>{{/hasTasks}}
        {{#tasks}}
        <section class="card" aria-labelledby="task-{{id}}">
          <h3 id="task-{{id}}">{{agency}}: {{state}}</h3>
          {{#due}}<p>{{t.due}}: {{due}}</p>{{/due}}
          {{#outcome}}<p>{{t.field-outcome}}: {{outcome}}</p>{{/outcome}}
          <ol class="timeline">{{#events}}<li><time>{{at}}</time> · {{kind}} · <span class="code">{{actor}}</span></li>{{/events}}</ol>
        </section>
        {{/tasks}}
        </section>
        {{#hasForms}}<section aria-labelledby="questions-heading"><h2 id="questions-heading">{{t.questions-to-agencies}}</h2>
        <p><a href="/desk/requests?direction=to-agency">{{t.requests-ours}}</a></p>
        {{#forms}}{{> form}}{{/forms}}</section>{{/hasForms}}
        {{/main}}{{/layout}}
        """

    /// A page that is one form: plain inputs, file inputs too, so it works without a script. A form with
    /// files carries its token in its action, since it is read as it streams.
    static let formPage = """
        {{<layout}}{{$main}}
        {{#intro}}<p>{{intro}}</p>{{/intro}}
        {{#form}}
        {{#formError}}<p class="error" role="alert">{{formError}}</p>{{/formError}}
        <form method="post" action="{{action}}" class="card"{{#multipart}} enctype="multipart/form-data"{{/multipart}}>
          {{^multipart}}<input type="hidden" name="csrf" value="{{csrf}}">{{/multipart}}
          <input type="hidden" name="key" value="{{key}}">
          {{> fields}}
          <button type="submit">{{label}}</button>
        </form>
        {{/form}}
        {{/main}}{{/layout}}
        """

    /// Records as a table, the first cell of each row linking to the record.
    static let list = """
        {{<layout}}{{$main}}
        {{#links}}<p><a href="{{href}}" class="button">{{label}}</a></p>{{/links}}
        {{#filters}}<ul class="filters">{{#items}}<li><a href="{{href}}"{{#current}} aria-current="true"{{/current}}>{{label}}</a></li>{{/items}}</ul>{{/filters}}
        {{^hasRows}}<p>{{empty}}</p>{{/hasRows}}
        {{#hasRows}}
        <table class="data">
          <caption>{{caption}}</caption>
          <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
          <tbody>
          {{#rows}}<tr{{#late}} class="late"{{/late}}><td><a href="{{href}}">{{first}}</a>{{#late}} <strong>{{t.overdue}}</strong>{{/late}}</td>{{#rest}}<td>{{.}}</td>{{/rest}}</tr>{{/rows}}
          </tbody>
        </table>
        {{/hasRows}}
        {{#next}}<p><a rel="next" href="{{next}}">{{t.more}}</a></p>{{/next}}
        {{/main}}{{/layout}}
        """

    /// One record: facts, texts, downloads, and the forms the reader may send about it.
    static let record = """
        {{<layout}}{{$main}}
        <dl class="facts">
        {{#facts}}<dt>{{label}}</dt><dd>{{#late}}<strong>{{t.overdue}}:</strong> {{/late}}{{#href}}<a href="{{href}}">{{value}}</a>{{/href}}{{^href}}{{value}}{{/href}}</dd>{{/facts}}
        </dl>
        {{#texts}}<section aria-labelledby="{{id}}"><h2 id="{{id}}">{{heading}}</h2><p class="text">{{text}}</p></section>{{/texts}}
        {{#hasDownloads}}<ul>{{#downloads}}<li><a href="{{href}}">{{label}}</a></li>{{/downloads}}</ul>{{/hasDownloads}}
        {{#hasForms}}<section aria-labelledby="actions-heading"><h2 id="actions-heading">{{t.actions}}</h2>{{#forms}}{{> form}}{{/forms}}</section>{{/hasForms}}
        {{/main}}{{/layout}}
        """

    static let problem = """
        {{<layout}}{{$main}}
        <p>{{detail}}</p>
        {{#errors}}<ul>{{#errors}}<li>{{.}}</li>{{/errors}}</ul>{{/errors}}
        <p><a href="{{back}}">{{t.back}}</a></p>
        {{/main}}{{/layout}}
        """

    /// Plain, high-contrast, printable; no web fonts, no scripts.
    static let style = """
        :root{color-scheme:light;--ink:#1a1a1a;--muted:#4a4a4a;--line:#c8c8c8;--accent:#0b4f8a;--bar:#2f6fad;--warn:#8a1c0b}
        body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);margin:0;background:#fff}
        a{color:var(--accent)}a:focus,button:focus,input:focus{outline:3px solid #f5b400;outline-offset:2px}
        .skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
        .top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;padding:.5rem 1rem;border-bottom:2px solid var(--line)}
        .brand{font-weight:700;margin:0}.top ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0;flex-wrap:wrap}
        [aria-current]{font-weight:700}.tools{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
        main{padding:1rem;max-width:72rem;margin:0 auto}h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
        .figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.75rem}
        .figure{margin:0;border:1px solid var(--line);padding:.75rem;border-radius:4px}.figure dt{color:var(--muted)}.figure dd{margin:0;font-size:1.4rem;font-weight:700}
        .trend{font-size:.9rem;font-weight:400;color:var(--muted)}
        table.data{border-collapse:collapse;width:100%;margin:1rem 0}table.data th,table.data td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
        caption{text-align:left;font-weight:700;padding:.25rem 0}.code{color:var(--muted);font-size:.85rem}
        .chart{width:100%;max-width:640px;height:auto}.bar{fill:var(--bar)}.line{fill:none;stroke:var(--warn);stroke-width:2}.dot{fill:var(--warn)}
        .axis{stroke:var(--ink)}.tick{font-size:11px;fill:var(--ink)}
        table.chart-data{font-size:.9rem;border-collapse:collapse}table.chart-data td,table.chart-data th{padding:.1rem .5rem;border-bottom:1px solid var(--line);text-align:left}
        .card{max-width:32rem;display:grid;gap:.5rem}.sealing{display:grid;gap:.5rem}[hidden]{display:none!important}textarea{font:inherit}textarea:focus,select:focus{outline:3px solid #f5b400;outline-offset:2px}input,select{font:inherit;padding:.35rem}button{font:inherit;padding:.35rem .9rem;background:var(--accent);color:#fff;border:0;border-radius:3px;cursor:pointer}
        .help{color:var(--muted);font-size:.9rem}.error{color:var(--warn);font-weight:700}.notice{background:#eef5ea;padding:.5rem;border-left:4px solid #2e7d32}
        .inline{display:flex;gap:.5rem;align-items:center}.period{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin-bottom:.5rem}
        .periods{display:flex;gap:0 2rem;flex-wrap:wrap;align-items:baseline}.shown{margin:0 0 1rem;color:var(--muted);flex-basis:100%}
        .acknowledge{display:grid;gap:.25rem}.text{white-space:pre-wrap}.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        @media print{.top,.no-print,.period{display:none}body{font-size:11pt}main{max-width:none}}
        """
}
