/* Write / Preview tabs of the Markdown fields (templates/projects/widgets/markdown_textarea.html).
 *
 * A static file under the site's CSP (script-src 'self'): no inline script anywhere. Without it,
 * the tabs stay hidden and the text area and its syntax hint work as they are. The preview is
 * rendered by the server with the sanitizer the site uses for the saved text
 * (projects.views.markdown_preview), so what the tab shows is what the page will show.
 */
(function () {
  "use strict";

  function csrfToken(widget) {
    var form = widget.closest("form");
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function message(panel, text) {
    var paragraph = document.createElement("p");
    paragraph.className = "text-body-secondary mb-0";
    paragraph.textContent = text;
    panel.replaceChildren(paragraph);
  }

  function enhance(widget) {
    var url = widget.getAttribute("data-markdown-preview");
    var tablist = widget.querySelector("[role=tablist]");
    var tabs = {
      write: widget.querySelector("[data-markdown-tab=write]"),
      preview: widget.querySelector("[data-markdown-tab=preview]"),
    };
    var panels = {
      write: widget.querySelector("[data-markdown-panel=write]"),
      preview: widget.querySelector("[data-markdown-panel=preview]"),
    };
    var textarea = panels.write.querySelector("textarea");
    var request = 0;

    function select(name) {
      Object.keys(tabs).forEach(function (key) {
        var chosen = key === name;
        tabs[key].classList.toggle("active", chosen);
        tabs[key].setAttribute("aria-selected", chosen ? "true" : "false");
        tabs[key].tabIndex = chosen ? 0 : -1;
        panels[key].hidden = !chosen;
      });
    }

    function preview() {
      select("preview");
      var mine = ++request;
      message(panels.preview, "Rendering the preview…");
      var body = new FormData();
      body.append("text", textarea.value);
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(widget) },
      })
        .then(function (response) {
          return response.text().then(function (text) {
            return { response: response, text: text };
          });
        })
        .then(function (answer) {
          if (mine !== request) {
            return; // a later click asked again
          }
          var response = answer.response;
          var plain = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
          if (response.ok && !response.redirected) {
            if (answer.text.trim()) {
              panels.preview.innerHTML = answer.text; // sanitized by the server (nh3)
            } else {
              message(panels.preview, "Nothing to preview.");
            }
          } else {
            message(panels.preview, plain ? answer.text : "The preview is unavailable right now; your text is kept.");
          }
        })
        .catch(function () {
          if (mine === request) {
            message(panels.preview, "The preview is unavailable right now; your text is kept.");
          }
        });
    }

    tabs.write.addEventListener("click", function () {
      request++;
      select("write");
      textarea.focus();
    });
    tabs.preview.addEventListener("click", preview);
    // The tab pattern's keys: arrows move between the two tabs and open the one reached.
    tablist.addEventListener("keydown", function (event) {
      var keys = { ArrowLeft: "write", Home: "write", ArrowRight: "preview", End: "preview" };
      var name = keys[event.key];
      if (!name) {
        return;
      }
      event.preventDefault();
      tabs[name].focus();
      if (name === "preview") {
        preview();
      } else {
        request++;
        select("write");
      }
    });
    tablist.hidden = false;
  }

  document.querySelectorAll("[data-markdown-preview]").forEach(enhance);
})();
