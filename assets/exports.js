/* Analytics export card: start the download of a file the server built
 * (components/cards/analytics_export_card.py). The callback replies carry only its address,
 * /download/<token>; the file itself comes from that route as an attachment, so the page stays. */
(function () {
    "use strict";

    var IDS = {
        file: "analytics-export-file"
    };

    /** A new {url, name} in the export store: follow it with a hidden link (a download, no navigation). */
    function analyticsExportDownload(file) {
        var context = window.dash_clientside.callback_context || {};
        var noUpdate = window.dash_clientside.no_update;
        if (context.triggered_id && context.triggered_id !== IDS.file) { return noUpdate; }
        if (!file || typeof file.url !== "string" || file.url.indexOf("/download/") < 0) { return noUpdate; }
        var link = document.createElement("a");
        link.href = file.url;
        link.download = typeof file.name === "string" ? file.name : "";
        link.rel = "noopener";
        link.style.display = "none";
        document.body.appendChild(link);
        link.click();
        link.remove();
        return {url: file.url, at: Date.now()};
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        analyticsExportDownload: analyticsExportDownload
    });
})();
