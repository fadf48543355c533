// "Connect a wallet" (account page): the browser's wallet (EIP-1193 `window.ethereum`) picks an account, the site
// writes the EIP-4361 (Sign-In with Ethereum) message for it with a fresh nonce, the wallet signs it
// (`personal_sign`) and the page posts message and signature to /account/wallets, which checks both.
const root = document.getElementById("connect-wallet");

function utf8Hex(text) {
  return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

if (root) {
  const button = document.getElementById("connect-wallet-button");
  const status = root.querySelector(".connect-status");
  const form = document.getElementById("link-wallet-form");
  const csrf = form.querySelector("input[name=csrf_token]").value;

  button.addEventListener("click", async () => {
    const provider = window.ethereum;
    if (!provider || typeof provider.request !== "function") {
      status.textContent = root.dataset.noWallet;
      status.classList.add("alert");
      return;
    }
    status.classList.remove("alert");
    status.textContent = root.dataset.asking;
    button.disabled = true;
    try {
      const accounts = await provider.request({ method: "eth_requestAccounts" });
      if (!accounts || !accounts.length) throw new Error("no account");
      const address = accounts[0];
      const body = new FormData();
      body.append("csrf_token", csrf);
      body.append("address", address);
      const answer = await fetch("/account/wallets/message", { method: "POST", body, credentials: "same-origin" });
      const json = await answer.json();
      if (!answer.ok) throw new Error(json.detail || answer.status);
      const signature = await provider.request({ method: "personal_sign", params: [utf8Hex(json.message), address] });
      form.querySelector("input[name=message]").value = json.message;
      form.querySelector("input[name=signature]").value = signature;
      form.submit();
    } catch (error) {
      status.textContent = `${root.dataset.refused} ${error && error.message ? error.message : error}`;
      status.classList.add("alert");
      button.disabled = false;
    }
  });
}
