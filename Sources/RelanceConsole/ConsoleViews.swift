import Foundation
import Mustache
import RelanceTemplates

/// The console's pages as Mustache templates (the engine the messages use), compiled
/// once. `{{x}}` escapes HTML; `{{{x}}}` is used only for markup the console built
/// itself (another template's output, an SVG chart whose every label is escaped).
enum ConsoleViews {
    static let library: MustacheLibrary = {
        // Escaped byte by byte (`MarkupEscaping`, as the messages' HTML): swift-mustache's
        // own HTML escaping walks graphemes, and lets a `"` followed by a combining mark
        // through (an attribute broken out of by a search term).
        MarkupEscaping.registered
        var library = MustacheLibrary()
        for (name, text) in templates {
            do { try library.register("{{% CONTENT_TYPE: \(MarkupEscaping.name)}}" + text, named: name) } catch {
                preconditionFailure("console template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    static func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? ""
    }

    static let templates: [String: String] = [
        "layout": """
        <!DOCTYPE html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Relance</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/static/console.css">
        {{#script}}<script src="/static/{{script}}" defer></script>{{/script}}
        </head>
        <body>
        <a class="skip" href="#main">{{t.skip}}</a>
        <header class="top">
        <span class="brand">Relance</span>
        {{#session}}
        <nav aria-label="{{t.menu}}"><ul>
        <li><a href="/">{{t.overview}}</a></li>
        {{#reads}}<li><a href="/payers">{{t.payers}}</a></li><li><a href="/jobs">{{t.jobs}}</a></li><li><a href="/log">{{t.live_log}}</a></li><li><a href="/templates">{{t.templates}}</a></li><li><a href="/audit">{{t.audit}}</a></li>{{/reads}}
        </ul></nav>
        {{/session}}
        <div class="session">
        <a href="/lang?set={{other_lang}}&amp;back={{back}}" lang="{{other_lang}}" hreflang="{{other_lang}}">{{other_lang_name}}</a>
        {{#session}}<span class="who">{{user}} ({{role}})</span>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.logout}}</button></form>{{/session}}
        </div>
        </header>
        <main id="main">
        <h1>{{title}}</h1>
        {{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
        {{{body}}}
        </main>
        </body>
        </html>
        """,
        "login": """
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/login" class="login">
        <input type="hidden" name="login_token" value="{{login_token}}">
        <input type="hidden" name="next" value="{{next}}">
        <p><label for="name">{{t.user_name}}</label><input id="name" name="name" autocomplete="username" required maxlength="64" value="{{name_value}}"></p>
        <p><label for="password">{{t.password}}</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200"></p>
        <p><button type="submit" id="sign-in">{{t.login}}</button></p>
        </form>
        """,
        "overview": """
        <p class="note">{{t.computed_at}} {{computed_at}}.</p>
        <section aria-labelledby="h-messages"><h2 id="h-messages">{{t.messages}}</h2>
        {{#periods}}
        <table class="grid"><caption>{{label}}</caption>
        <thead><tr><th scope="col">{{t.channel}}</th>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}<th scope="col">{{t.total}}</th></tr></thead>
        <tbody>{{#rows}}<tr><th scope="row">{{channel}}</th>{{#cells}}<td class="num">{{.}}</td>{{/cells}}<td class="num">{{sum}}</td></tr>{{/rows}}</tbody>
        </table>
        {{/periods}}
        </section>
        <section aria-labelledby="h-person"><h2 id="h-person">{{t.needs_person}}</h2>
        <ul class="counters">{{#attention}}<li>{{#link}}<a href="{{link}}">{{/link}}<span class="count">{{count}}</span> {{label}}{{#link}}</a>{{/link}}</li>{{/attention}}</ul>
        </section>
        <section aria-labelledby="h-queue"><h2 id="h-queue">{{t.queue}}</h2>
        <ul class="counters">
        <li><span class="count" id="queue-due">{{queue.due}}</span> {{t.due_now}}</li>
        <li><span class="count">{{queue.running}}</span> {{t.running}}</li>
        <li><span class="count">{{queue.scheduled}}</span> {{t.scheduled}}</li>
        </ul>
        <p>{{t.oldest_due}}: <span id="oldest-due">{{queue.oldest}}</span> {{t.seconds}}. {{#queue.next}}{{t.next_run}}: {{queue.next}}.{{/queue.next}}</p>
        </section>
        <section aria-labelledby="h-aging"><h2 id="h-aging">{{t.outstanding}}</h2>
        {{^aging}}<p>{{t.no_outstanding}}</p>{{/aging}}
        {{#aging}}<figure class="chart">{{{svg}}}<figcaption>{{currency}}</figcaption></figure>
        <table class="grid"><caption>{{t.outstanding}} ({{currency}})</caption><thead><tr><th scope="col">{{t.status}}</th><th scope="col">{{t.amount}}</th><th scope="col">{{t.invoices_count}}</th></tr></thead>
        <tbody>{{#bands}}<tr><th scope="row">{{label}}</th><td class="num">{{amount}}</td><td class="num">{{count}}</td></tr>{{/bands}}</tbody></table>
        {{/aging}}
        </section>
        <section aria-labelledby="h-steps"><h2 id="h-steps">{{t.effectiveness}}</h2>
        {{^steps}}<p>{{t.no_steps}}</p>{{/steps}}
        {{#has_steps}}<figure class="chart">{{{steps_svg}}}<figcaption>{{t.paid30_chart}}</figcaption></figure>
        <table class="grid"><thead><tr><th scope="col">{{t.scenario}}</th><th scope="col">{{t.step}}</th><th scope="col">{{t.sent}}</th><th scope="col">{{t.delivered}}</th><th scope="col">{{t.undelivered}}</th><th scope="col">{{t.invoices_reached}}</th><th scope="col">{{t.paid7}}</th><th scope="col">{{t.paid30}}</th><th scope="col">{{t.recovered}}</th></tr></thead>
        <tbody>{{#steps}}<tr><td>{{scenario}}</td><td>{{step}}</td><td class="num">{{sent}}</td><td class="num">{{delivered}}</td><td class="num">{{undelivered}}</td><td class="num">{{invoices}}</td><td class="num">{{paid7}}</td><td class="num">{{paid30}}</td><td class="num">{{recovered}}</td></tr>{{/steps}}</tbody></table>{{/has_steps}}
        </section>
        """,
        "payers": """
        <form method="get" action="/payers" role="search" class="filters">
        <p><label for="q">{{t.search_label}}</label><input id="q" name="q" value="{{q}}" maxlength="200"> <button type="submit">{{t.search}}</button></p>
        </form>
        {{#searched}}{{^results}}<p>{{t.no_results}}</p>{{/results}}{{/searched}}
        {{#has_results}}<table class="grid" id="payer-results"><thead><tr><th scope="col">{{t.reference}}</th><th scope="col">{{t.name}}</th><th scope="col">{{t.email}}</th><th scope="col">{{t.phone}}</th></tr></thead>
        <tbody>{{#results}}<tr><td><a href="{{href}}">{{ref}}</a></td><td>{{payer_name}}</td><td>{{email}}</td><td>{{phone}}</td></tr>{{/results}}</tbody></table>{{/has_results}}
        """,
        "payer": """
        <p><a href="{{history_href}}">{{t.history}}</a></p>
        <section aria-labelledby="h-profile"><h2 id="h-profile">{{t.profile}}</h2>
        {{#unusable}}<p class="error">{{t.profile_unusable}} {{unusable}}</p>{{/unusable}}
        <dl class="profile">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        </section>
        <section aria-labelledby="h-invoices"><h2 id="h-invoices">{{t.invoices}}</h2>
        {{^invoices}}<p>{{t.none}}</p>{{/invoices}}
        {{#has_invoices}}<table class="grid"><thead><tr><th scope="col">{{t.number}}</th><th scope="col">{{t.amount}}</th><th scope="col">{{t.balance}}</th><th scope="col">{{t.due_date}}</th><th scope="col">{{t.status}}</th><th scope="col">{{t.hold}}</th>{{#may_act}}<th scope="col">{{t.actions}}</th>{{/may_act}}</tr></thead>
        <tbody>{{#invoices}}<tr><td>{{number}}</td><td class="num">{{amount}}</td><td class="num">{{balance}}</td><td>{{due}}</td><td>{{status}}</td><td>{{hold}}</td>{{#may_act}}<td>{{#open}}<a href="{{hold_href}}">{{t.hold_invoice}}</a>{{/open}}{{#held}} · <a href="{{release_href}}">{{t.release}}</a>{{/held}}</td>{{/may_act}}</tr>{{/invoices}}</tbody></table>{{/has_invoices}}
        </section>
        <section aria-labelledby="h-suppressed"><h2 id="h-suppressed">{{t.suppressed}}</h2>
        {{^suppressions}}<p>{{t.none}}</p>{{/suppressions}}
        <ul>{{#suppressions}}<li>{{channel}}: {{contact}} ({{reason}}, {{created}})</li>{{/suppressions}}</ul>
        </section>
        <section aria-labelledby="h-cases"><h2 id="h-cases">{{t.cases}}</h2>
        {{^cases}}<p>{{t.none}}</p>{{/cases}}
        <ul>{{#cases}}<li><a href="{{jobs_href}}">{{case_ref}}</a> · <a href="{{export_href}}">{{t.export_case}}</a>{{#may_act}} · <a href="{{cancel_href}}">{{t.cancel_case}}</a>{{/may_act}}</li>{{/cases}}</ul>
        </section>
        <section aria-labelledby="h-timeline"><h2 id="h-timeline">{{t.timeline}}</h2>
        {{> timeline}}
        </section>
        """,
        "timeline": """
        {{#timeline}}<article class="job"><h3><a href="{{href}}">{{t.job}} {{id}}</a> · {{template}} · {{channel}} · <span class="state state-{{state}}">{{state}}</span></h3>
        <p>{{t.case}}: {{case_ref}} · {{t.created}}: {{created}} · {{t.run_at}}: {{run_at}}{{#last_error}} · {{t.last_error}}: {{last_error}}{{/last_error}}</p>
        <table class="grid trace"><thead><tr><th scope="col">{{t.at}}</th><th scope="col">{{t.event}}</th><th scope="col">{{t.attempt}}</th><th scope="col">{{t.detail}}</th></tr></thead>
        <tbody>{{#events}}<tr><td>{{at}}</td><td>{{event}}</td><td class="num">{{attempt}}</td><td><code>{{detail}}</code></td></tr>{{/events}}</tbody></table>
        </article>{{/timeline}}
        """,
        "history": """
        <p>{{t.history_note}} {{t.printed_at}} {{printed_at}}.</p>
        <dl class="profile">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        <h2>{{t.invoices}}</h2>
        <table class="grid"><thead><tr><th scope="col">{{t.number}}</th><th scope="col">{{t.amount}}</th><th scope="col">{{t.balance}}</th><th scope="col">{{t.due_date}}</th><th scope="col">{{t.status}}</th></tr></thead>
        <tbody>{{#invoices}}<tr><td>{{number}}</td><td class="num">{{amount}}</td><td class="num">{{balance}}</td><td>{{due}}</td><td>{{status}}</td></tr>{{/invoices}}</tbody></table>
        <h2>{{t.timeline}}</h2>
        {{> timeline}}
        """,
        "jobs": """
        <form method="get" action="/jobs" class="filters">
        <p><label for="state">{{t.state}}</label><select id="state" name="state"><option value="">{{t.any}}</option>{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/states}}</select>
        <label for="channel">{{t.channel}}</label><select id="channel" name="channel"><option value="">{{t.any}}</option>{{#channels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/channels}}</select>
        <label for="template">{{t.template}}</label><input id="template" name="template" value="{{template}}" maxlength="100">
        <label for="case">{{t.case}}</label><input id="case" name="case" value="{{case_ref}}" maxlength="200">
        <label for="from">{{t.from}}</label><input id="from" name="from" value="{{from}}" maxlength="10" placeholder="2026-01-31">
        <label for="to">{{t.to}}</label><input id="to" name="to" value="{{to}}" maxlength="10" placeholder="2026-12-31">
        <button type="submit">{{t.filter}}</button></p>
        </form>
        {{^jobs}}<p>{{t.no_results}}</p>{{/jobs}}
        {{#has_jobs}}<table class="grid" id="job-list"><thead><tr><th scope="col">{{t.job}}</th><th scope="col">{{t.payer}}</th><th scope="col">{{t.case}}</th><th scope="col">{{t.template}}</th><th scope="col">{{t.channel}}</th><th scope="col">{{t.state}}</th><th scope="col">{{t.run_at}}</th></tr></thead>
        <tbody>{{#jobs}}<tr><td><a href="{{href}}">{{id}}</a></td><td><a href="{{payer_href}}">{{payer_ref}}</a></td><td>{{case_ref}}</td><td>{{template}}</td><td>{{channel}}</td><td><span class="state state-{{state}}">{{state}}</span></td><td>{{run_at}}</td></tr>{{/jobs}}</tbody></table>{{/has_jobs}}
        {{#older_href}}<p><a href="{{older_href}}" rel="next">{{t.older}}</a></p>{{/older_href}}
        """,
        "job": """
        <dl class="profile">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        {{#may_act}}{{#settle}}<section aria-labelledby="h-actions"><h2 id="h-actions">{{t.actions}}</h2><ul class="actions">{{#decisions}}<li><a href="{{href}}" class="button">{{label}}</a></li>{{/decisions}}</ul></section>{{/settle}}{{/may_act}}
        {{#has_sent}}<section aria-labelledby="h-sent"><h2 id="h-sent">{{t.what_was_sent}}</h2>
        <p class="note">{{t.what_was_sent_note}}</p>
        <ul id="sent-content">{{#sent}}<li>{{t.attempt}} {{attempt}}: {{#archived}}<a href="{{href}}">{{t.archived_bytes}}</a> <code>sha256 {{sha256}}</code>{{/archived}}{{^archived}}{{t.not_archived}}{{/archived}}</li>{{/sent}}</ul>
        </section>{{/has_sent}}
        <section aria-labelledby="h-preview"><h2 id="h-preview">{{t.preview}}</h2>
        <p class="note">{{t.preview_note}}</p>
        {{#preview_error}}<p class="error">{{t.preview_failed}} {{preview_error}}</p>{{/preview_error}}
        {{#subject}}<p><strong>{{t.subject}}:</strong> {{subject}}</p>{{/subject}}
        {{#html_href}}<h3>{{t.html_part}}</h3><iframe src="{{html_href}}" sandbox="" title="{{t.html_part}}" class="message"></iframe>{{/html_href}}
        {{#text}}<h3>{{text_label}}</h3><pre class="message-text">{{text}}</pre>{{/text}}
        {{#pdf_href}}<p><a href="{{pdf_href}}" id="letter-pdf">{{t.letter_pdf}}</a></p>{{/pdf_href}}
        </section>
        <section aria-labelledby="h-trace"><h2 id="h-trace">{{t.timeline}}</h2>
        {{> timeline}}
        </section>
        """,
        "confirm": """
        <p>{{question}}</p>
        <form method="post" action="{{action}}" class="confirm">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#fields}}<p><label for="{{id}}">{{label}}</label>{{#choices_list}}<select id="{{id}}" name="{{id}}">{{#choices}}<option value="{{.}}">{{.}}</option>{{/choices}}</select>{{/choices_list}}{{^choices_list}}<input id="{{id}}" name="{{id}}" required maxlength="{{max}}" value="{{value}}">{{/choices_list}}</p>{{/fields}}
        {{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}
        <p><button type="submit" id="confirm">{{t.confirm}}</button> <a href="{{back_href}}">{{t.back}}</a></p>
        </form>
        """,
        "message": """
        <p class="{{kind}}" role="{{aria_role}}">{{text}}</p>
        {{#back_href}}<p><a href="{{back_href}}">{{t.back}}</a></p>{{/back_href}}
        """,
        "log": """
        <form method="get" action="/log" class="filters">
        <p><label for="case">{{t.case}}</label><input id="case" name="case" value="{{case_ref}}" maxlength="200">
        <label for="channel">{{t.channel}}</label><select id="channel" name="channel"><option value="">{{t.any}}</option>{{#channels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/channels}}</select>
        <button type="submit">{{t.filter}}</button></p>
        </form>
        <p class="note">{{t.live_hint}} <span id="live-status" role="status" data-connected="{{t.connected}}"></span></p>
        <table class="grid trace" id="live-log" data-stream="{{stream_href}}"><thead><tr><th scope="col">{{t.at}}</th><th scope="col">{{t.job}}</th><th scope="col">{{t.event}}</th><th scope="col">{{t.channel}}</th><th scope="col">{{t.case}}</th><th scope="col">{{t.detail}}</th></tr></thead>
        <tbody>{{#events}}<tr><td>{{at}}</td><td><a href="{{href}}">{{job_id}}</a></td><td>{{event}}</td><td>{{channel}}</td><td>{{case_ref}}</td><td><code>{{detail}}</code></td></tr>{{/events}}</tbody></table>
        """,
        "audit": """
        {{^entries}}<p>{{t.none}}</p>{{/entries}}
        {{#has_entries}}<table class="grid" id="audit"><thead><tr><th scope="col">{{t.at}}</th><th scope="col">{{t.user}}</th><th scope="col">{{t.action}}</th><th scope="col">{{t.target}}</th><th scope="col">{{t.outcome}}</th></tr></thead>
        <tbody>{{#entries}}<tr><td>{{at}}</td><td>{{user}}</td><td>{{action}}</td><td>{{target}}</td><td>{{outcome}}</td></tr>{{/entries}}</tbody></table>{{/has_entries}}
        """,
        "templates": """
        <table class="grid"><thead><tr><th scope="col">{{t.message}}</th><th scope="col">{{t.locales}}</th><th scope="col">{{t.channels}}</th></tr></thead>
        <tbody>{{#messages}}<tr><td>{{message}}</td><td>{{locales}}</td><td>{{channels}}</td></tr>{{/messages}}</tbody></table>
        <h2>{{t.sample_preview}}</h2>
        <form method="get" action="/templates/preview" class="filters">
        <p><label for="payer">{{t.payer}}</label><input id="payer" name="payer" required maxlength="200">
        <label for="message">{{t.message}}</label><select id="message" name="message">{{#messages}}<option value="{{message}}">{{message}}</option>{{/messages}}</select>
        <label for="channel">{{t.channel}}</label><select id="channel" name="channel">{{#all_channels}}<option value="{{.}}">{{.}}</option>{{/all_channels}}</select>
        <button type="submit">{{t.show}}</button></p>
        </form>
        """,
    ]
}
