import Foundation
import HallpassCore

/// The page a browser waits on while a person decides its sign-in in a terminal. It works
/// without JavaScript (a text browser on a kiosk: reload it, or follow "Continue", and once the
/// request is decided the server answers 303 to the client); with JavaScript, `script` opens the
/// push channel and moves the tab on the instant the decision is made, so the tab never goes stale.
struct SignInPage {
    var clientID: String
    /// Supplied by whoever registered the client: shown marked as such.
    var clientName: String
    var redirectHost: String
    var scopes: [(name: String, description: String)]
    var userCode: String
    var secondsLeft: Int
    var issuer: String
    var sshCommand: String?
    /// This page's own URL: "Continue" and the script's destination once decided.
    var pageURL: String
    var scriptURL: String
    var pushURI: String
    var handle: String

    var html: String {
        let scopeItems = scopes.map { "<li><code>\(HTMLText.untrusted($0.name))</code>: \(HTMLText.escape($0.description))</li>" }
        var how = "<li><code>hallpass approve --server \(HTMLText.escape(issuer))</code></li>"
        if let sshCommand { how += "\n<li><code>\(HTMLText.escape(sshCommand))</code></li>" }
        let body = """
            <h1>Sign in to <q>\(HTMLText.untrusted(clientName))</q></h1>
            <p>The name in quotes is supplied by the application (client <code>\(HTMLText.untrusted(clientID))</code>).
            Once you decide, this browser goes back to <strong>\(HTMLText.untrusted(redirectHost))</strong>.</p>
            <h2>It asks for</h2>
            <ul>
            \(scopeItems.joined(separator: "\n"))
            </ul>
            <h2>Decide in a terminal</h2>
            <p>Your code: <strong id="user-code">\(HTMLText.escape(userCode))</strong></p>
            <p>Approve or deny it with one of:</p>
            <ul>
            \(how)
            </ul>
            <p id="status">Waiting for your decision: <span id="countdown">\(Self.clock(secondsLeft))</span> left.</p>
            <p><a id="continue" href="\(HTMLText.escape(pageURL))">Continue</a> once you have decided.</p>
            <script src="\(HTMLText.escape(scriptURL))"></script>
            """
        let attributes = " data-push=\"\(HTMLText.escape(pushURI))\" data-handle=\"\(HTMLText.escape(handle))\" data-expires-in=\"\(secondsLeft)\""
        return WebPage.document(title: "Sign in to \(TerminalText.sanitize(clientName))", body: body, bodyAttributes: attributes)
    }

    /// `m:ss`.
    static func clock(_ seconds: Int) -> String {
        let s = max(0, seconds)
        return "\(s / 60):" + (s % 60 < 10 ? "0" : "") + "\(s % 60)"
    }

    /// Served as a file (the CSP allows no inline script). It subscribes to the push channel with
    /// the page's handle, exactly as a device subscribes with its device_code; on `approved`,
    /// `denied` or `expired` it replaces the page with "Continue" (the server then redirects or
    /// says what happened). A dropped socket is reopened a bounded number of times.
    static let script = #"""
        (function () {
          "use strict";
          var body = document.body;
          var next = document.getElementById("continue");
          var countdown = document.getElementById("countdown");
          var status = document.getElementById("status");
          if (!body || !next || !body.dataset.push) { return; }
          var deadline = Date.now() + 1000 * Number(body.dataset.expiresIn || 0);
          var finished = false;
          function go() {
            if (finished) { return; }
            finished = true;
            window.location.replace(next.href);
          }
          function tick() {
            if (finished) { return; }
            var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
            countdown.textContent = Math.floor(left / 60) + ":" + (left % 60 < 10 ? "0" : "") + (left % 60);
            if (left === 0) { window.setTimeout(go, 1500); return; }
            window.setTimeout(tick, 1000);
          }
          var attempts = 0;
          function connect() {
            var socket;
            try { socket = new WebSocket(body.dataset.push); } catch (e) { return; }
            socket.onopen = function () {
              attempts = 0;
              socket.send(JSON.stringify({ device_code: body.dataset.handle }));
            };
            socket.onmessage = function (message) {
              var event;
              try { event = JSON.parse(message.data).event; } catch (e) { return; }
              if (event === "approved" || event === "denied" || event === "expired") { go(); }
            };
            socket.onclose = function () {
              if (!finished && attempts < 30) {
                attempts += 1;
                status.textContent = "Reconnecting… (or use Continue once you have decided)";
                window.setTimeout(connect, Math.min(1000 * attempts, 5000));
              }
            };
          }
          tick();
          connect();
        })();

        """#
}
