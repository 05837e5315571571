/* The demo shop's own script: catalog, product and cart pages, consent banner, tracking.
   Loaded with `defer`, after the perso snippet. It writes nothing to any storage until
   the visitor accepts (the demo's own consent cookie is set only on "Accept"). */
(function () {
  "use strict";
  var CATALOG = {
    "sku-101": { title: "Linen shirt", price: 59.0, art: "art-a", blurb: "Breathable washed linen, relaxed fit." },
    "sku-102": { title: "Canvas tote", price: 24.0, art: "art-b", blurb: "Heavy cotton canvas, inside pocket." },
    "sku-103": { title: "Ceramic mug", price: 18.0, art: "art-c", blurb: "Stoneware, 350 ml, dishwasher safe." },
    "sku-104": { title: "Wool beanie", price: 29.0, art: "art-d", blurb: "Merino rib knit, one size." },
    "sku-105": { title: "Desk lamp", price: 89.0, art: "art-e", blurb: "Warm LED, dimmable, aluminium arm." },
    "sku-106": { title: "Travel kettle", price: 45.0, art: "art-f", blurb: "0.5 l, folds flat, dual voltage." }
  };
  var CONSENT_COOKIE = "demo_consent";

  function perso() {
    // The stub queues calls until the runtime loads; without it the shop still works.
    return window.perso && typeof window.perso.track === "function" ? window.perso : null;
  }
  function money(n) { return "$" + n.toFixed(2); }
  function query(name) {
    var m = new RegExp("[?&]" + name + "=([^&#]*)").exec(location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : null;
  }
  var cart = (query("items") || "").split(",").filter(function (id) { return CATALOG[id]; });

  function updateCartLink() {
    var link = document.getElementById("cart-link");
    if (!link) return;
    link.textContent = "Cart (" + cart.length + ")";
    link.href = "cart.html" + (cart.length ? "?items=" + cart.join(",") : "");
  }

  function addToCart(id) {
    cart.push(id);
    updateCartLink();
    var p = perso();
    if (p) p.track("add_to_cart", { item: id, price: CATALOG[id].price });
    var status = document.getElementById("cart-status");
    if (status) status.textContent = CATALOG[id].title + " added to your cart.";
  }

  function renderProduct() {
    var root = document.getElementById("product");
    if (!root) return;
    var id = query("id");
    var item = CATALOG[id] || CATALOG["sku-101"];
    id = CATALOG[id] ? id : "sku-101";
    root.querySelector(".art").className = "art " + item.art;
    root.querySelector("h1").textContent = item.title;
    root.querySelector(".price").textContent = money(item.price);
    root.querySelector(".blurb").textContent = item.blurb;
    root.querySelector("#add-to-cart").setAttribute("data-item", id);
    document.title = item.title + " · Demo Shop";
  }

  function renderCart() {
    var body = document.getElementById("cart-lines");
    if (!body) return;
    var total = 0;
    body.innerHTML = "";
    cart.forEach(function (id) {
      var row = document.createElement("tr");
      var name = document.createElement("td");
      var price = document.createElement("td");
      name.textContent = CATALOG[id].title;
      price.textContent = money(CATALOG[id].price);
      row.appendChild(name);
      row.appendChild(price);
      body.appendChild(row);
      total += CATALOG[id].price;
    });
    document.getElementById("cart-total").textContent = money(total);
    document.getElementById("cart-empty").hidden = cart.length > 0;
  }

  function purchase() {
    var total = cart.reduce(function (sum, id) { return sum + CATALOG[id].price; }, 0);
    var p = perso();
    if (p) p.track("purchase", { value: total, items: cart.slice() });
    var status = document.getElementById("cart-status");
    if (status) status.textContent = "Thank you! Order placed (" + money(total) + ").";
  }

  function hasConsentCookie() {
    return document.cookie.split("; ").indexOf(CONSENT_COOKIE + "=granted") >= 0;
  }

  function setConsent(granted) {
    var p = window.perso;
    var choice = { analytics: granted, personalization: granted };
    if (p && typeof p.consent === "function") p.consent(choice);
    if (granted) {
      document.cookie = CONSENT_COOKIE + "=granted; path=/; max-age=31536000; SameSite=Lax";
    } else {
      document.cookie = CONSENT_COOKIE + "=; path=/; max-age=0; SameSite=Lax";
    }
    document.getElementById("consent").hidden = true;
  }

  function wire() {
    var banner = document.getElementById("consent");
    if (banner) banner.hidden = hasConsentCookie();
    document.addEventListener("click", function (ev) {
      var el = ev.target;
      if (!(el instanceof Element)) return;
      if (el.id === "consent-accept") setConsent(true);
      else if (el.id === "consent-decline") setConsent(false);
      else if (el.id === "privacy-choices") { ev.preventDefault(); banner.hidden = false; }
      else if (el.id === "add-to-cart" || el.classList.contains("add-to-cart")) {
        ev.preventDefault();
        addToCart(el.getAttribute("data-item"));
      } else if (el.id === "purchase") { ev.preventDefault(); purchase(); }
    });
    renderProduct();
    renderCart();
    updateCartLink();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
