// The bring-your-own drop zones send their file to the upload route (serving/upload_route.py) as
// multipart/form-data, with progress, instead of dcc.Upload reading it into a base64 callback body:
// drops and choices are taken here, in the capture phase, before dcc.Upload sees them. The route's
// JSON reply goes to the analytics-upload-reply store; a server callback fills the panel from the
// server's record. Its progress goes to the analytics-upload-progress store (uploadsProgress shows
// it). Files over the upload limit are refused here, before a byte is sent.
// Element ids are those of components/ids/analytics.py (tests/unit/test_ids.py checks them).
(function () {
    var IDS = {
        alert: "analytics-byo-alert",
        reply: "analytics-upload-reply",
        progress: "analytics-upload-progress"
    };

    function setProps(id, props) {
        if (window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props(id, props);
        }
    }

    function zoneOf(event) {
        var target = event.target;
        var wrap = target && target.closest && target.closest(".rnnx-drop-wrap");
        return wrap && wrap.getAttribute("data-upload-url") ? wrap : null;
    }

    function tooLarge(wrap, file) {
        var limitMb = parseFloat(wrap.getAttribute("data-limit-mb") || "0");
        var sizeMb = file.size / 1048576;
        if (!limitMb || sizeMb <= limitMb) {
            return null;
        }
        return file.name + " is " + sizeMb.toFixed(1) + " MB, more than the limit of " + limitMb +
            " MB (RNNX_UPLOAD_LIMIT_MB): it was not uploaded.";
    }

    /** The route's answer, handed to Dash: the slot, the id it was given or its message. */
    function hand(slot, name, body, status) {
        var reply = {slot: slot, name: name, n: Date.now() + Math.random()};
        if (body && body.file && body.file.id) {
            reply.id = body.file.id;
        } else {
            reply.error = (body && body.error) || (status ?
                "The server refused the file (HTTP " + status + ")." :
                "The upload failed: the connection closed before the server answered (a file over " +
                "the limit, or the server is restarting).");
        }
        setProps(IDS.reply, {data: reply});
    }

    function send(wrap, file) {
        var slot = wrap.getAttribute("data-slot");
        var refused = tooLarge(wrap, file);
        if (refused) {
            setProps(IDS.alert, {children: refused});
            return;
        }
        setProps(IDS.progress, {data: {slot: slot, name: file.name, percent: 0}});
        var shown = 0;
        var xhr = new XMLHttpRequest();
        xhr.open("POST", wrap.getAttribute("data-upload-url"));
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.upload.onprogress = function (event) {
            var percent = event.lengthComputable ? Math.floor(100 * event.loaded / event.total) : 0;
            if (percent > shown) {
                shown = percent;
                setProps(IDS.progress, {data: {slot: slot, name: file.name, percent: percent}});
            }
        };
        xhr.onload = function () {
            var body = null;
            try {
                body = JSON.parse(xhr.responseText);
            } catch (error) {
                body = null;
            }
            hand(slot, file.name, body, xhr.status);
        };
        xhr.onerror = function () {
            hand(slot, file.name, null, 0);
        };
        var form = new FormData();
        form.append("file", file, file.name);
        xhr.send(form);
    }

    function disabled(wrap) {
        return Boolean(wrap.querySelector(".rnnx-drop-disabled"));
    }

    // Drag and drop: the zone's own highlight; dcc.Upload never sees the drop.
    function onDrag(event) {
        var wrap = zoneOf(event);
        if (!wrap) {
            return;
        }
        event.preventDefault();
        event.stopPropagation();
        var over = (event.type === "dragenter" || event.type === "dragover") && !disabled(wrap);
        wrap.classList.toggle("rnnx-drop-over", over);
        var files = event.dataTransfer && event.dataTransfer.files;
        if (event.type === "drop" && !disabled(wrap) && files && files.length) {
            send(wrap, files[0]);
        }
    }

    // Click to choose: dcc.Upload opens its file input; the choice is taken here.
    function onChoose(event) {
        var wrap = zoneOf(event);
        var input = event.target;
        if (!wrap || !input || input.type !== "file") {
            return;
        }
        event.stopPropagation();
        if (input.files && input.files.length && !disabled(wrap)) {
            send(wrap, input.files[0]);
        }
        input.value = "";  // choosing the same file again is a new upload
    }

    ["dragenter", "dragover", "dragleave", "drop"].forEach(function (type) {
        document.addEventListener(type, onDrag, true);
    });
    document.addEventListener("change", onChoose, true);

    /** The upload under way on its zone's line ([model, csv, vocab] names), and Analyse off. */
    function uploadsProgress(progress) {
        var noUpdate = window.dash_clientside.no_update;
        var lines = ["model", "csv", "vocab"].map(function (slot) {
            return progress && progress.slot === slot ?
                "Uploading " + progress.name + "… " + progress.percent + " %" : noUpdate;
        });
        return lines.concat([true]);
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.rnnx = Object.assign(window.dash_clientside.rnnx || {}, {
        uploadsProgress: uploadsProgress
    });
})();
