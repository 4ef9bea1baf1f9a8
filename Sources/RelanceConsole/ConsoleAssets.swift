import HTTPTypes
import Hummingbird
import NIOCore

/// The console's style sheet and its one script (the live log), served from memory.
enum ConsoleAssets {
    static func response(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "\(type); charset=utf-8"
        headers[.cacheControl] = "private, max-age=300"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Renders the live log's events as they come (textContent only: nothing the trace
    /// holds is ever parsed as markup). Without it, the page still shows the last events.
    static let liveLogScript = """
        "use strict";
        (function () {
          var table = document.getElementById("live-log");
          if (!table || !window.EventSource) { return; }
          var body = table.tBodies[0];
          var status = document.getElementById("live-status");
          var source = new EventSource(table.getAttribute("data-stream"));
          function cell(row, text) {
            var td = document.createElement("td");
            td.textContent = text;
            row.appendChild(td);
            return td;
          }
          source.onopen = function () { status.textContent = status.getAttribute("data-connected"); };
          source.onerror = function () { status.textContent = "…"; };
          source.addEventListener("trace", function (message) {
            var e = JSON.parse(message.data);
            var row = document.createElement("tr");
            row.className = "fresh";
            row.setAttribute("data-job", String(e.job_id));
            cell(row, e.at);
            var link = document.createElement("a");
            link.href = "/jobs/" + encodeURIComponent(String(e.job_id));
            link.textContent = String(e.job_id);
            cell(row, "").appendChild(link);
            cell(row, e.event);
            cell(row, e.channel);
            cell(row, e.case_ref === null ? "—" : e.case_ref);
            var code = document.createElement("code");
            code.textContent = e.detail;
            cell(row, "").appendChild(code);
            body.appendChild(row);
            while (body.rows.length > 500) { body.deleteRow(0); }
          });
        })();
        """

    static let css = """
        :root { --ink: #1d2733; --muted: #4a5866; --line: #c9d2db; --accent: #1f4e79; --bad: #9b1c1c; --ok: #1e6b3a; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); background: #f7f9fb; }
        a { color: var(--accent); }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 8px 24px; background: #fff; border-bottom: 1px solid var(--line); }
        .brand { font-weight: bold; font-size: 18px; }
        nav ul { display: flex; flex-wrap: wrap; gap: 14px; list-style: none; margin: 0; padding: 0; }
        .session { margin-left: auto; display: flex; gap: 12px; align-items: center; }
        form.inline { display: inline; }
        main { padding: 8px 24px 40px; max-width: 1200px; }
        h1 { font-size: 24px; }
        h2 { font-size: 19px; margin-top: 28px; }
        h3 { font-size: 16px; }
        table.grid { border-collapse: collapse; margin: 8px 0 16px; background: #fff; }
        table.grid th, table.grid td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
        table.grid caption { text-align: left; font-weight: bold; padding: 4px 0; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        table.trace code { white-space: pre-wrap; word-break: break-all; font-size: 12px; }
        ul.counters { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0; }
        ul.counters li { background: #fff; border: 1px solid var(--line); padding: 8px 12px; }
        .count { font-size: 20px; font-weight: bold; }
        dl.profile { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
        dl.profile dt { font-weight: bold; }
        dl.profile dd { margin: 0; }
        .error { color: var(--bad); font-weight: bold; }
        .flash { color: var(--ok); font-weight: bold; }
        .note { color: var(--muted); }
        .state-uncertain, .state-dead, .state-failed, .state-undelivered { color: var(--bad); font-weight: bold; }
        .state-sent, .state-delivered { color: var(--ok); }
        form.filters label, form.confirm label, form.login label { display: inline-block; margin-right: 6px; font-weight: bold; }
        form.login label { display: block; }
        input, select, button { font: inherit; padding: 3px 6px; margin-right: 10px; }
        button, a.button { background: var(--accent); color: #fff; border: 0; padding: 5px 12px; text-decoration: none; cursor: pointer; }
        ul.actions { display: flex; gap: 12px; list-style: none; padding: 0; }
        iframe.message { width: 100%; height: 480px; border: 1px solid var(--line); background: #fff; }
        pre.message-text { white-space: pre-wrap; background: #fff; border: 1px solid var(--line); padding: 8px; }
        figure.chart { margin: 8px 0; }
        article.job { border-top: 1px solid var(--line); margin-top: 12px; }
        tr.fresh td { background: #eef6ee; }
        @media print {
          header.top, .skip, form, ul.actions, nav { display: none; }
          body { background: #fff; font-size: 11pt; }
          main { max-width: none; padding: 0; }
          a { color: inherit; text-decoration: none; }
          article.job { break-inside: avoid; }
        }
        """
}
