"""The roster template HR downloads (CSV and XLSX): the header row the upload reads, one example row
(skipped on upload: ``roster.EXAMPLE_NAME``) and, in the XLSX, a sheet of instructions.

The XLSX formats the NIP column as text before anyone types in it: a number keeps only 15 digits, so
an 18-digit NIP typed into a General cell has already lost its last three.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from quiz_server.services.roster import EXAMPLE_NAME

HEADER = ("NIP", "Nama", "Unit", "Jabatan", "Jenis")
EXAMPLE = ("198507232010011002", EXAMPLE_NAME, "Bagian Umum", "Analis Kepegawaian", "PNS")
WIDTHS = (22, 34, 30, 30, 10)
VALIDATED_ROWS = 100_000  # rows of the Jenis column offered the PNS/PPPK list
INSTRUCTIONS = (
    "Petunjuk pengisian daftar pegawai",
    "",
    "1. Isi lembar 'Daftar pegawai': satu baris per pegawai, mulai baris 3. Jangan ubah judul kolom di baris 1.",
    "2. Baris 2 adalah contoh dan dilewati saat diunggah. Boleh dihapus.",
    "3. NIP (wajib): 18 angka untuk PNS atau PPPK, tanpa spasi. Kolom ini sudah berformat Teks; "
    "jangan diubah menjadi Angka, agar digit terakhir tidak hilang.",
    "4. Nama (wajib): nama lengkap seperti pada data kepegawaian.",
    "5. Unit (wajib): unit kerja; laporan dikelompokkan per unit, jadi tulis nama unit dengan ejaan yang sama.",
    "6. Jabatan (boleh kosong): nama jabatan.",
    "7. Jenis (boleh kosong): PNS atau PPPK.",
    "8. Simpan sebagai .xlsx, lalu unggah di halaman Daftar pegawai. Daftar yang diunggah menggantikan daftar lama.",
    "9. Bila ada baris yang salah, seluruh berkas ditolak dan halaman menampilkan nomor baris serta masalahnya.",
)


def csv_bytes() -> bytes:
    """';'-separated (what Excel in an Indonesian locale opens into columns), UTF-8 with a BOM."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerow(EXAMPLE)
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes() -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = "Daftar pegawai"
    ws.append(HEADER)
    ws.append(EXAMPLE)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF4FA")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    for cell in ws[2]:
        cell.font = Font(italic=True, color="595959")
    for i, width in enumerate(WIDTHS):
        ws.column_dimensions["ABCDE"[i]].width = width
    # A column style (not styled empty cells, which would count as rows on upload): Excel and
    # LibreOffice give it to every cell typed into the column.
    ws.column_dimensions["A"].number_format = "@"
    ws["A2"].number_format = "@"
    kinds = DataValidation(type="list", formula1='"PNS,PPPK"', allow_blank=True)
    kinds.error, kinds.errorTitle = "Isi PNS atau PPPK, atau kosongkan.", "Jenis ASN"
    ws.add_data_validation(kinds)
    kinds.add(f"E2:E{VALIDATED_ROWS}")
    ws.freeze_panes = "A2"
    guide = book.create_sheet("Petunjuk")
    for line in INSTRUCTIONS:
        guide.append([line])
    guide["A1"].font = bold
    guide.column_dimensions["A"].width = 110
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
