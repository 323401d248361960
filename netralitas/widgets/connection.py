"""Connection and account: server address, log in with NIP, register (form, then the email code), log out."""

from __future__ import annotations

import ipywidgets as w

from netralitas.client import QuizClient
from netralitas.errors import InvalidNIP
from netralitas.nip import parse_nip
from netralitas.widgets.common import client, full, heading, identity_changed, note, safe, show


class ConnectionWidget(w.VBox):
    """Log in or register; the token is saved in the learner's config folder for every notebook."""

    def __init__(self, quiz_client: QuizClient | None = None, *, show_server: bool = False) -> None:
        self.client = quiz_client or client()
        self.last_error: Exception | None = None
        self.message = w.HTML()
        self.status = w.HTML()

        self.server = w.Text(description="Alamat server", layout=full(), style={"description_width": "8em"})
        self.save_server_button = w.Button(description="Simpan alamat", icon="save")
        self.check_button = w.Button(description="Cek koneksi", icon="plug")
        self.save_server_button.on_click(lambda _: self.save_server())
        self.check_button.on_click(lambda _: self.check())
        server_box = w.VBox([self.server, w.HBox([self.save_server_button, self.check_button])])
        show(server_box, show_server)

        style = {"description_width": "8em"}
        self.nip = w.Text(description="NIP", placeholder="18 angka", layout=full(), style=style)
        self.password = w.Password(description="Kata sandi", layout=full(), style=style)
        self.login_button = w.Button(description="Masuk", button_style="primary", icon="sign-in")
        self.login_button.on_click(lambda _: self.log_in())
        login_box = w.VBox([self.nip, self.password, self.login_button])

        self.reg_nip = w.Text(description="NIP", placeholder="18 angka", layout=full(), style=style)
        self.reg_kind = w.ToggleButtons(options=[("PNS", "pns"), ("PPPK", "pppk")], description="Jenis", style=style)
        self.reg_name = w.Text(description="Nama", layout=full(), style=style)
        self.reg_email = w.Text(description="Email", layout=full(), style=style)
        self.reg_instansi = w.Dropdown(description="Instansi", options=[], layout=full(), style=style)
        self.reg_unit = w.Text(description="Unit kerja", layout=full(), style=style)
        self.reg_password = w.Password(
            description="Kata sandi", placeholder="minimal 10 karakter", layout=full(), style=style
        )
        self.register_button = w.Button(description="Daftar", button_style="primary", icon="user-plus")
        self.register_button.on_click(lambda _: self.register())
        # Step two of registration: the 6-digit code mailed to the learner (no account exists before it).
        self.registration_id: str | None = None
        self.reg_code = w.Text(description="Kode email", placeholder="6 angka", layout=full(), style=style)
        self.verify_button = w.Button(description="Konfirmasi kode", button_style="primary", icon="check")
        self.verify_button.on_click(lambda _: self.verify())
        self.resend_button = w.Button(description="Kirim ulang kode", icon="envelope")
        self.resend_button.on_click(lambda _: self.resend())
        self.code_box = w.VBox(
            [
                w.HTML("<p>Kami mengirim email ke alamat Anda. Masukkan kode 6 angka dari email itu.</p>"),
                self.reg_code,
                w.HBox([self.verify_button, self.resend_button]),
            ]
        )
        show(self.code_box, False)
        register_box = w.VBox(
            [
                w.HTML("<p>Data ini dipakai untuk mencatat kemajuan dan sertifikat Anda.</p>"),
                self.reg_nip,
                self.reg_kind,
                self.reg_name,
                self.reg_email,
                self.reg_instansi,
                self.reg_unit,
                self.reg_password,
                self.register_button,
                self.code_box,
            ]
        )
        self.tabs = w.Tab(children=[login_box, register_box], titles=("Masuk", "Daftar baru"))
        self.tabs.observe(lambda ch: self.load_instansi() if ch["new"] == 1 else None, names="selected_index")

        self.logout_button = w.Button(description="Keluar", icon="sign-out")
        self.logout_button.on_click(lambda _: self.log_out())
        super().__init__(
            [heading("Koneksi dan akun"), server_box, self.status, self.tabs, self.logout_button, self.message]
        )
        self.refresh()

    def refresh(self) -> None:
        self.server.value = self.client.server
        self.server.disabled = self.client.server_from_env
        self.save_server_button.disabled = self.client.server_from_env
        who = self.client.identity
        if who:
            name = f"{who['name']} — " if who.get("name") else ""
            self.status.value = note(f"Anda masuk sebagai {name}NIP {who.get('nip')} di {self.client.server}.", "ok")
        else:
            self.status.value = note(f"Belum masuk. Server kuis: {self.client.server}.", "info")
        show(self.tabs, not who)
        show(self.logout_button, bool(who))
        identity_changed()  # this page's quiz and progress follow a log in or out at once

    @safe()
    def save_server(self) -> None:
        self.client.save_server(self.server.value)
        self.message.value = note("Alamat server disimpan.", "ok")
        self.refresh()

    @safe()
    def check(self) -> None:
        if self.client.health():
            self.message.value = note(f"Server kuis {self.client.server} dapat dihubungi.", "ok")
        else:
            self.message.value = note(
                f"Server kuis {self.client.server} tidak dapat dihubungi. Periksa alamat dan koneksi internet.",
                "error",
            )

    @safe()
    def load_instansi(self) -> None:
        if self.reg_instansi.options:
            return
        self.reg_instansi.options = [(i["name"], i["id"]) for i in self.client.instansi()]
        self.reg_instansi.value = None

    def _valid_nip(self, value: str, kind: str = "pns") -> str | None:
        try:
            return parse_nip(value, kind).digits
        except InvalidNIP as exc:
            self.message.value = note(exc.message, "error")
            return None

    @safe()
    def log_in(self) -> None:
        nip = "".join(self.nip.value.split())
        if not (len(nip) == 18 and nip.isdigit()):
            self.message.value = note("NIP harus 18 angka (spasi diperbolehkan).", "error")
            return
        if not self.password.value:
            self.message.value = note("Isi kata sandi Anda.", "error")
            return
        self.client.login(nip, self.password.value)
        self.password.value = ""
        self.message.value = note("Berhasil masuk. Lanjutkan ke materi dan kuis.", "ok")
        self.refresh()

    @safe()
    def register(self) -> None:
        nip = self._valid_nip(self.reg_nip.value, self.reg_kind.value)
        if not nip:
            return
        missing = [
            label
            for label, widget in (
                ("nama", self.reg_name),
                ("email", self.reg_email),
                ("instansi", self.reg_instansi),
                ("unit kerja", self.reg_unit),
            )
            if not widget.value
        ]
        if missing:
            self.message.value = note("Lengkapi: " + ", ".join(missing) + ".", "error")
            return
        pending = self.client.register(
            nip=nip,
            nip_kind=self.reg_kind.value,
            name=self.reg_name.value.strip(),
            email=self.reg_email.value.strip(),
            instansi_id=self.reg_instansi.value,
            unit=self.reg_unit.value.strip(),
            password=self.reg_password.value,
        )
        self.reg_password.value = ""
        self.registration_id = pending["registration_id"]
        self.reg_code.value = ""
        show(self.code_box, True)
        self.message.value = note(pending["message"], "info")

    @safe()
    def verify(self) -> None:
        code = "".join(self.reg_code.value.split())
        if not self.registration_id:
            self.message.value = note("Isi formulir pendaftaran dan tekan Daftar dulu.", "error")
            return
        if not (len(code) == 6 and code.isdigit()):
            self.message.value = note("Kode verifikasi terdiri dari 6 angka.", "error")
            return
        learner = self.client.verify_registration(self.registration_id, code)
        self.registration_id = None
        self.reg_code.value = ""
        show(self.code_box, False)
        self.message.value = note(f"Pendaftaran berhasil. Selamat datang, {learner['name']}.", "ok")
        self.refresh()

    @safe()
    def resend(self) -> None:
        if self.registration_id:
            self.message.value = note(self.client.resend_code(self.registration_id), "info")

    @safe()
    def log_out(self) -> None:
        if self.client.logout():
            self.message.value = note("Anda sudah keluar. Token akun ini sudah dicabut di server.", "info")
        else:
            self.message.value = note(
                "Anda sudah keluar dari perangkat ini, tetapi server tidak dapat dihubungi: token lama baru "
                "berhenti berlaku saat kedaluwarsa. Bila perangkat ini dipakai bersama, ganti kata sandi Anda.",
                "info",
            )
        self.refresh()
