// Files over the upload limit are refused in the browser (dcc.Upload's max_size) before a byte
// is sent; this says why, in the upload panel's alert, instead of nothing happening.
// Element ids are those of components/ids/analytics.py (tests/unit/test_ids.py checks them).
(function () {
    var IDS = {alert: "analytics-byo-alert"};

    function tooLarge(event) {
        var wrap = event.target && event.target.closest && event.target.closest(".rnnx-drop-wrap");
        if (!wrap) {
            return;
        }
        var limitMb = parseFloat(wrap.getAttribute("data-limit-mb") || "0");
        var files = (event.dataTransfer && event.dataTransfer.files) || (event.target && event.target.files);
        if (!limitMb || !files) {
            return;
        }
        for (var i = 0; i < files.length; i++) {
            var sizeMb = files[i].size / 1048576;
            if (sizeMb > limitMb) {
                var message = files[i].name + " is " + sizeMb.toFixed(1) + " MB, more than the limit of " +
                    limitMb + " MB (RNNX_UPLOAD_LIMIT_MB): it was not uploaded.";
                if (window.dash_clientside && window.dash_clientside.set_props) {
                    window.dash_clientside.set_props(IDS.alert, {children: message});
                }
                return;
            }
        }
    }
    document.addEventListener("drop", tooLarge, true);
    document.addEventListener("change", tooLarge, true);

    /** While a dropped file is still being read on the server, Analyse would use the previous one:
     *  it is disabled until the server has the file (the upload callback enables it again). */
    function uploadsDisableRun() {
        return true;
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        uploadsDisableRun: uploadsDisableRun
    });
})();
